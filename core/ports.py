"""Ports: what the domain needs from the outside world, as Protocols; bot/ wires real ones.

* :class:`PaymentGateway`: push an STK prompt and ask how it ended (Daraja behind it).
* :class:`PaymentStarter`: what a flow calls to start a payment (write it, then push in a job).
* :class:`Notifier`: tell a member something, by catalog key, on whatever channel reaches them.

Gateway errors, so callers decide without knowing the provider:

* GatewayError
  - GatewayUnavailable: nothing reached the provider (or a query failed); safe to try again.
  - PushRefused: the provider answered no; no prompt was sent.
  - PushOutcomeUnknown: the push was sent but its answer was lost; never push again blindly.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from core.tables.payments import PaymentPurpose, PaymentState


class GatewayError(Exception):
    """A payment provider call did not give an answer we can use."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.message!r}, code={self.code!r})"


class GatewayUnavailable(GatewayError):
    """The provider could not be reached, or answered "try later"; nothing was started."""


class PushRefused(GatewayError):
    """The provider refused the push; the payer was not prompted."""


class PushOutcomeUnknown(GatewayError):
    """The push went out but its answer was lost: the payer may have been prompted."""


@dataclasses.dataclass(frozen=True, slots=True)
class PushAccepted:
    merchant_request_id: str
    checkout_request_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class QueryAnswer:
    """What a status query said; ``outcome`` is None while the payer has not answered."""

    outcome: PaymentState | None
    result_code: int | None
    result_desc: str


class PaymentGateway(Protocol):
    def stk_push(
        self, *, phone: str, amount: int, account_reference: str, description: str, callback_token: str
    ) -> PushAccepted:
        """Prompt ``phone`` to pay ``amount`` (minor units, whole shillings).

        The gateway builds the callback URL from ``callback_token``.

        Raises:
            GatewayUnavailable, PushRefused, PushOutcomeUnknown.
        """
        ...

    def stk_query(self, checkout_request_id: str) -> QueryAnswer:
        """How the push ended, or that it has not yet (safe to repeat).

        Raises:
            GatewayUnavailable: the query itself failed; ask again later.
        """
        ...


class PaymentStarter(Protocol):
    def start(
        self,
        *,
        org_id: int,
        member_id: int,
        purpose: PaymentPurpose,
        amount: int,
        subject: str | None,
        idempotency_key: str,
        phone: str | None = None,
    ) -> int:
        """Write the payment and queue its push; return its id.

        Raises:
            Invalid: bad amount or phone (``field`` names it).
            PaymentInProgress: the member has a payment waiting on their phone.
        """
        ...


class Notifier(Protocol):
    def notify(self, org_id: int, member_id: int, text_key: str, **values: object) -> None:
        """Send the member the catalog text ``text_key`` in their language, filled with ``values``.

        Raises:
            Exception: the channel's own errors; callers in jobs retry the transient ones.
        """
        ...
