"""Member PINs: argon2 hashes, a lock-out after repeated failures, never logged."""

from __future__ import annotations

import re
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.clock import Clock, as_utc
from core.errors import Invalid, PinLocked, PinNotSet, WrongPin
from core.tables import Member, Organisation

# Interactive hops must stay fast; these parameters cost about 10 ms while still being memory-hard.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_PIN = re.compile(r"^\d{4}$")
_WEAK = frozenset({"0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999", "0123"})


def hash_pin(pin: str) -> str:
    if not _PIN.match(pin or ""):
        raise Invalid("a PIN is exactly 4 digits", field="pin")
    return _hasher.hash(pin)


def check_new_pin(pin: str) -> None:
    """Reject PINs that are not 4 digits or trivially guessable.

    Raises:
        Invalid: with ``field="pin"``.
    """
    if not _PIN.match(pin or ""):
        raise Invalid("a PIN is exactly 4 digits", field="pin")
    if pin in _WEAK or pin in "0123456789" or pin in "9876543210":
        raise Invalid("that PIN is too easy to guess", field="pin")


def is_locked(member: Member, clock: Clock) -> bool:
    return member.locked_until is not None and as_utc(member.locked_until) > clock.now()


def verify_pin(member: Member, org: Organisation, pin: str, clock: Clock) -> None:
    """Check ``pin``; count failures and lock the member out after too many.

    The caller commits the member row either way, so failures are remembered.

    Raises:
        PinNotSet: the member has no PIN yet.
        PinLocked: locked now (or by this very failure).
        WrongPin: wrong, with attempts left.
    """
    now = clock.now()
    if member.locked_until is not None and as_utc(member.locked_until) > now:
        raise PinLocked(as_utc(member.locked_until))
    if member.pin_hash is None:
        raise PinNotSet("no PIN set")
    try:
        ok = _PIN.match(pin or "") is not None and _hasher.verify(member.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        ok = False
    if ok:
        member.failed_pin_attempts = 0
        member.locked_until = None
        return
    member.failed_pin_attempts += 1
    if member.failed_pin_attempts >= org.pin_max_attempts:
        member.failed_pin_attempts = 0
        member.locked_until = now + timedelta(minutes=org.pin_lock_minutes)
        raise PinLocked(member.locked_until)
    raise WrongPin(org.pin_max_attempts - member.failed_pin_attempts)


def set_pin(member: Member, pin: str) -> None:
    check_new_pin(pin)
    member.pin_hash = _hasher.hash(pin)
    member.failed_pin_attempts = 0
    member.locked_until = None


def reset_pin(member: Member) -> None:
    """An officer's or admin's reset: the member chooses a new PIN on next contact."""
    member.pin_hash = None
    member.failed_pin_attempts = 0
    member.locked_until = None


def matches(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` is the one hashed in ``pin_hash`` (for "type it again" confirmations)."""
    try:
        return bool(_PIN.match(pin or "")) and _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
