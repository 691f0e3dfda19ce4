"""Test phone numbers that select a provider outcome deterministically, and phone helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class StkOutcome(StrEnum):
    """What the fake payer does with an STK push prompt."""

    SUCCESS = "success"
    CANCELLED = "cancelled"
    WRONG_PIN = "wrong_pin"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    TIMEOUT = "timeout"
    LOST_CALLBACK = "lost_callback"
    DUPLICATE_CALLBACK = "duplicate_callback"
    CALLBACK_FIRST = "callback_first"
    REJECTED = "rejected"
    STUCK = "stuck"


class MessageOutcome(StrEnum):
    """What happens to a WhatsApp or SMS message sent to a number."""

    DELIVERED = "delivered"
    REJECTED = "rejected"
    UNDELIVERED = "undelivered"
    OUTSIDE_WINDOW = "outside_window"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class StkResult:
    """A Daraja ResultCode and ResultDesc pair."""

    code: int
    desc: str


RESULT_SUCCESS = StkResult(0, "The service request is processed successfully.")
RESULT_CANCELLED = StkResult(1032, "Request cancelled by user.")
RESULT_WRONG_PIN = StkResult(2001, "The initiator information is invalid.")
RESULT_INSUFFICIENT = StkResult(1, "The balance is insufficient for the transaction.")
RESULT_TIMEOUT = StkResult(1037, "DS timeout user cannot be reached")

STK_RESULTS: dict[StkOutcome, StkResult] = {
    StkOutcome.SUCCESS: RESULT_SUCCESS,
    StkOutcome.CANCELLED: RESULT_CANCELLED,
    StkOutcome.WRONG_PIN: RESULT_WRONG_PIN,
    StkOutcome.INSUFFICIENT_FUNDS: RESULT_INSUFFICIENT,
    StkOutcome.TIMEOUT: RESULT_TIMEOUT,
    # The payment goes through; only the callback is lost, which is what reconciliation must catch.
    StkOutcome.LOST_CALLBACK: RESULT_SUCCESS,
    StkOutcome.DUPLICATE_CALLBACK: RESULT_SUCCESS,
    StkOutcome.CALLBACK_FIRST: RESULT_SUCCESS,
}

STK_TEST_NUMBERS: dict[str, StkOutcome] = {
    "254708000001": StkOutcome.CANCELLED,
    "254708000002": StkOutcome.WRONG_PIN,
    "254708000003": StkOutcome.INSUFFICIENT_FUNDS,
    "254708000004": StkOutcome.TIMEOUT,
    "254708000005": StkOutcome.LOST_CALLBACK,
    "254708000006": StkOutcome.DUPLICATE_CALLBACK,
    "254708000007": StkOutcome.CALLBACK_FIRST,
    "254708000008": StkOutcome.REJECTED,
    "254708000012": StkOutcome.STUCK,
}
"""STK push payer (PhoneNumber) -> outcome; every other valid number pays successfully."""

MESSAGE_TEST_NUMBERS: dict[str, MessageOutcome] = {
    "254708000009": MessageOutcome.REJECTED,
    "254708000010": MessageOutcome.OUTSIDE_WINDOW,
    "254708000011": MessageOutcome.RATE_LIMITED,
    "254708000013": MessageOutcome.UNDELIVERED,
}
"""Message recipient -> outcome on WhatsApp, Africa's Talking and Twilio; others are delivered."""

STK_DESCRIPTIONS: dict[StkOutcome, str] = {
    StkOutcome.CANCELLED: "callback ResultCode 1032, payer cancelled",
    StkOutcome.WRONG_PIN: "callback ResultCode 2001, wrong PIN",
    StkOutcome.INSUFFICIENT_FUNDS: "callback ResultCode 1, insufficient funds",
    StkOutcome.TIMEOUT: "callback ResultCode 1037, phone unreachable",
    StkOutcome.LOST_CALLBACK: "no callback; query says 'being processed', then ResultCode 0 after "
    "lost_callback_settle_seconds",
    StkOutcome.DUPLICATE_CALLBACK: "success callback delivered twice (same receipt)",
    StkOutcome.CALLBACK_FIRST: "success callback POSTed and answered before processrequest responds",
    StkOutcome.REJECTED: "processrequest answers HTTP 500 errorCode 500.001.1001 (subscriber locked)",
    StkOutcome.STUCK: "no callback ever; query answers 'being processed' forever",
}

MESSAGE_DESCRIPTIONS: dict[MessageOutcome, str] = {
    MessageOutcome.REJECTED: "AT recipient statusCode 403 InvalidPhoneNumber; Twilio 400 code 21610; "
    "WhatsApp accepted then a failed status 131026",
    MessageOutcome.OUTSIDE_WINDOW: "WhatsApp free-form accepted then a failed status 131047 "
    "(templates are delivered); SMS delivered",
    MessageOutcome.RATE_LIMITED: "WhatsApp HTTP 429 code 130429 with Retry-After; SMS delivered",
    MessageOutcome.UNDELIVERED: "accepted, then AT report Failed/AbsentSubscriber, Twilio undelivered "
    "ErrorCode 30003, WhatsApp failed status 131026",
}

WHATSAPP_RETRY_AFTER_SECONDS = 30

_NON_DIGITS = re.compile(r"\D")


def digits(phone: str) -> str:
    """Return only the digits of a phone number (drops '+', spaces and dashes)."""
    return _NON_DIGITS.sub("", phone)


def e164(phone: str) -> str:
    """Return a phone number as '+' and digits."""
    return "+" + digits(phone)


def mask(phone: str) -> str:
    """Return a phone number safe for logs (keeps the country prefix and last three digits)."""
    number = digits(phone)
    return number[:4] + "*" * max(len(number) - 7, 0) + number[-3:]


def stk_outcome(phone: str) -> StkOutcome:
    """Return what the fake payer at this number will do with a push."""
    return STK_TEST_NUMBERS.get(digits(phone), StkOutcome.SUCCESS)


def message_outcome(phone: str) -> MessageOutcome:
    """Return what happens to a message sent to this number."""
    return MESSAGE_TEST_NUMBERS.get(digits(phone), MessageOutcome.DELIVERED)


def describe() -> dict[str, list[dict[str, Any]]]:
    """Return the test number tables as JSON for the control API and the simulator page."""
    return {
        "stk_push": [
            {"phone": phone, "outcome": str(outcome), "what": STK_DESCRIPTIONS[outcome]}
            for phone, outcome in STK_TEST_NUMBERS.items()
        ],
        "messages": [
            {"phone": "+" + phone, "outcome": str(outcome), "what": MESSAGE_DESCRIPTIONS[outcome]}
            for phone, outcome in MESSAGE_TEST_NUMBERS.items()
        ],
    }
