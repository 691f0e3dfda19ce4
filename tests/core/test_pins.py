"""PINs: hashed, verified, locked after repeated failures, reset by an officer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import pins
from core.clock import FixedClock
from core.errors import Invalid, PinLocked, PinNotSet, WrongPin
from core.tables import Member, Organisation


def _member() -> Member:
    member = Member(org_id=1, phone="+254700000009", member_no="M1", name="Test")
    member.pin_hash = pins.hash_pin("4826")
    return member


def test_hash_is_not_the_pin_and_verifies(clock: FixedClock) -> None:
    member = _member()
    assert member.pin_hash and "4826" not in member.pin_hash
    pins.verify_pin(member, Organisation(name="x", slug="x"), "4826", clock)
    assert member.failed_pin_attempts == 0


def test_three_failures_lock_for_the_org_lock_time(clock: FixedClock) -> None:
    member, org = _member(), Organisation(name="x", slug="x", pin_max_attempts=3, pin_lock_minutes=30)
    with pytest.raises(WrongPin) as first:
        pins.verify_pin(member, org, "0000", clock)
    assert first.value.attempts_left == 2
    with pytest.raises(WrongPin):
        pins.verify_pin(member, org, "abcd", clock)
    with pytest.raises(PinLocked) as locked:
        pins.verify_pin(member, org, "1111", clock)
    assert locked.value.until == clock.now() + timedelta(minutes=30)
    with pytest.raises(PinLocked):  # even the right PIN is refused while locked
        pins.verify_pin(member, org, "4826", clock)
    clock.advance(minutes=31)
    pins.verify_pin(member, org, "4826", clock)


def test_reset_requires_a_new_pin(clock: FixedClock) -> None:
    member = _member()
    pins.reset_pin(member)
    with pytest.raises(PinNotSet):
        pins.verify_pin(member, Organisation(name="x", slug="x"), "4826", clock)


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", "1111", "1234", "9876", "0000"])
def test_weak_or_malformed_new_pins_are_refused(pin: str) -> None:
    with pytest.raises(Invalid):
        pins.check_new_pin(pin)


def test_matches_for_confirmation() -> None:
    hashed = pins.hash_pin("5937")
    assert pins.matches(hashed, "5937") and not pins.matches(hashed, "5938") and not pins.matches(hashed, "")
