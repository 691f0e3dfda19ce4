"""The domain's errors, one tree.

Our exception hierarchy:

* JumbeError
  x DomainError: a rule of the domain said no; the message is safe to show an admin.
    - NotFound
    - Invalid: a value failed validation; ``field`` names it.
    - Conflict: the request clashes with the current state (duplicate, already final...).
    - WrongPin, PinLocked, PinNotSet
    - UnbalancedTransaction
"""

from __future__ import annotations

from datetime import datetime


class JumbeError(Exception):
    """Base of every error Jumbe raises on purpose."""

    code = "error"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.field = field

    def __repr__(self) -> str:
        field = f", field={self.field!r}" if self.field else ""
        return f"{self.__class__.__name__}({self.message!r}{field})"


class DomainError(JumbeError):
    code = "domain_error"


class NotFound(DomainError):
    code = "not_found"


class Invalid(DomainError):
    code = "invalid"


class Conflict(DomainError):
    code = "conflict"


class UnbalancedTransaction(DomainError):
    code = "unbalanced"


class PinNotSet(DomainError):
    code = "pin_not_set"


class WrongPin(DomainError):
    code = "wrong_pin"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong PIN, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class PinLocked(DomainError):
    code = "pin_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"PIN locked until {until.isoformat()}")
        self.until = until
