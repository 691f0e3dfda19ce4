"""What an STK ``ResultCode`` means for the payment, and a short reason key for each.

``ResultCode`` arrives in the callback (an int) and in the STK query (a string). Only the
codes below are documented or observed; anything else is a failure with reason ``failed``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum


class Outcome(StrEnum):
    """The final state a result code puts an STK payment in."""

    PAID = "paid"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True, slots=True)
class ResultInfo:
    """One result code: the outcome, a reason key for messages and metrics, and Daraja's gist."""

    code: int
    outcome: Outcome
    reason: str
    description: str


SUCCESS = 0

STILL_PROCESSING = 4999
"""Seen from the STK *query* while the prompt is still on the phone ("The transaction is
still under processing"): not a result yet."""

PENDING_CODES = frozenset({STILL_PROCESSING})

_KNOWN = (
    ResultInfo(0, Outcome.PAID, "paid", "The service request is processed successfully."),
    ResultInfo(1, Outcome.FAILED, "insufficient_funds", "The balance is insufficient for the transaction."),
    ResultInfo(17, Outcome.FAILED, "provider_error", "M-Pesa could not process the transaction."),
    ResultInfo(26, Outcome.FAILED, "provider_busy", "System busy."),
    ResultInfo(1001, Outcome.FAILED, "subscriber_busy", "Another M-Pesa transaction is in progress."),
    ResultInfo(1019, Outcome.FAILED, "expired", "Transaction has expired."),
    ResultInfo(1025, Outcome.FAILED, "push_failed", "An error occurred while sending the push request."),
    ResultInfo(1032, Outcome.CANCELLED, "cancelled", "Request cancelled by user."),
    ResultInfo(1036, Outcome.FAILED, "failed", "The transaction could not be completed."),
    ResultInfo(1037, Outcome.TIMEOUT, "timeout", "DS timeout: user cannot be reached / no response."),
    ResultInfo(2001, Outcome.FAILED, "wrong_pin", "The initiator information is invalid (wrong PIN)."),
    ResultInfo(9999, Outcome.FAILED, "push_failed", "An error occurred while sending the push request."),
)

RESULT_CODES: Mapping[int, ResultInfo] = {info.code: info for info in _KNOWN}
"""Every result code we know, by code."""


def describe(code: int) -> ResultInfo:
    """What ``code`` means; unknown codes are a plain failure.

    Raises:
        ValueError: for a code that says "not finished yet" (see :data:`PENDING_CODES`).
    """
    if code in PENDING_CODES:
        raise ValueError(f"result code {code} is not final")
    return RESULT_CODES.get(code) or ResultInfo(code, Outcome.FAILED, "failed", "Unknown result code.")


def outcome_for(code: int) -> Outcome:
    """The final outcome of ``code``: PAID (0), CANCELLED (1032), TIMEOUT (1037), else FAILED."""
    return describe(code).outcome
