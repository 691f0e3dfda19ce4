"""Result codes -> outcome and reason key."""

from __future__ import annotations

import pytest

from channels.mpesa.results import RESULT_CODES, STILL_PROCESSING, Outcome, describe, outcome_for


@pytest.mark.parametrize(
    ("code", "outcome", "reason"),
    [
        (0, Outcome.PAID, "paid"),
        (1, Outcome.FAILED, "insufficient_funds"),
        (1032, Outcome.CANCELLED, "cancelled"),
        (1037, Outcome.TIMEOUT, "timeout"),
        (2001, Outcome.FAILED, "wrong_pin"),
        (1036, Outcome.FAILED, "failed"),
        (1025, Outcome.FAILED, "push_failed"),
        (1019, Outcome.FAILED, "expired"),
        (9999, Outcome.FAILED, "push_failed"),
        (1001, Outcome.FAILED, "subscriber_busy"),
        (123456, Outcome.FAILED, "failed"),  # undocumented: a failure, never a payment
        (-1, Outcome.FAILED, "failed"),
    ],
)
def test_result_codes(code: int, outcome: Outcome, reason: str) -> None:
    info = describe(code)
    assert (info.code, info.outcome, info.reason) == (code, outcome, reason)
    assert outcome_for(code) is outcome


def test_only_zero_means_paid() -> None:
    assert [code for code, info in RESULT_CODES.items() if info.outcome is Outcome.PAID] == [0]


def test_still_processing_is_not_an_outcome() -> None:
    with pytest.raises(ValueError, match="not final"):
        describe(STILL_PROCESSING)
