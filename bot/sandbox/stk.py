"""The fake M-Pesa payer: STK push records, phone prompts, results and Daraja callbacks."""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.sandbox.numbers import (
    RESULT_CANCELLED,
    RESULT_SUCCESS,
    RESULT_TIMEOUT,
    RESULT_WRONG_PIN,
    STK_RESULTS,
    StkOutcome,
    StkResult,
    e164,
    mask,
)
from bot.sandbox.outbox import Event
from bot.sandbox.runtime import Sandbox

_logger = logging.getLogger(__name__)

EAT = timezone(timedelta(hours=3), "EAT")
"""M-Pesa stamps transactions in Nairobi time."""

PROMPT_ACTIONS: dict[str, StkResult] = {
    "approve": RESULT_SUCCESS,
    "cancel": RESULT_CANCELLED,
    "wrong_pin": RESULT_WRONG_PIN,
    "timeout": RESULT_TIMEOUT,
}
_PROMPT_STATUS = {"approve": "approved", "cancel": "cancelled", "wrong_pin": "wrong_pin", "timeout": "timed_out"}
_RECEIPT_ALPHABET = string.ascii_uppercase + string.digits
_MAX_PUSHES = 5000


@dataclass(slots=True)
class StkPush:
    """One accepted STK push and what became of it."""

    merchant_request_id: str
    checkout_request_id: str
    shortcode: str
    phone: str
    amount: int
    account_reference: str
    description: str
    callback_url: str
    outcome: StkOutcome
    manual: bool
    created_at: datetime
    result: StkResult | None = None
    receipt: str | None = None
    action: str | None = None
    decided: asyncio.Event = field(default_factory=asyncio.Event)

    def prompt_view(self) -> dict[str, Any]:
        """Return the phone prompt as JSON for the simulator page."""
        status = "pending" if self.action is None else _PROMPT_STATUS[self.action]
        return {
            "checkout_request_id": self.checkout_request_id,
            "phone": self.phone,
            "amount": self.amount,
            "business_short_code": self.shortcode,
            "account_reference": self.account_reference,
            "transaction_desc": self.description,
            "created_at": self.created_at.isoformat(),
            "status": status,
        }


class PromptError(Exception):
    """A control action that does not fit the prompt (unknown, not manual, already answered)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message

    def __repr__(self) -> str:
        return f"PromptError(status_code={self.status_code!r}, message={self.message!r})"


class Payer:
    """Plays the customer's phone and M-Pesa for every push the sandbox accepts."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.pushes: dict[str, StkPush] = {}
        self._receipts: set[str] = set()

    def new_ids(self) -> tuple[str, str]:
        """Return a fresh (MerchantRequestID, CheckoutRequestID) pair in Daraja's formats."""
        while True:
            merchant = f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(90000000) + 10000000}-1"
            stamp = datetime.now(EAT).strftime("%d%m%Y%H%M%S")
            checkout = f"ws_CO_{stamp}{secrets.randbelow(900000) + 100000}"
            if checkout not in self.pushes:
                return merchant, checkout

    def accept(self, push: StkPush) -> None:
        """Register a push and put its prompt on the fake phone."""
        self.pushes[push.checkout_request_id] = push
        while len(self.pushes) > _MAX_PUSHES:
            # A long-running simulator forgets its oldest pushes rather than growing without bound.
            del self.pushes[next(iter(self.pushes))]
        text = (
            f"Do you want to pay KES {push.amount} to {push.shortcode} "
            f"for account {push.account_reference}? Enter M-PESA PIN"
        )
        self.sandbox.outbox.add(
            "daraja",
            "stk_push",
            e164(push.phone),
            text,
            sender="M-PESA",
            payload={**push.prompt_view(), "manual": push.manual},
            ids={"CheckoutRequestID": push.checkout_request_id, "MerchantRequestID": push.merchant_request_id},
        )
        if push.manual:
            self._announce(push)

    async def play(self, push: StkPush) -> None:
        """Decide the push as the payer would, then tell the merchant through the callback."""
        if push.outcome is StkOutcome.STUCK:
            return
        if push.manual:
            result = await self._wait_for_decision(push)
        elif push.outcome is StkOutcome.LOST_CALLBACK:
            await self.sandbox.pause(
                max(self.sandbox.config.callback_delay_seconds, self.sandbox.config.lost_callback_settle_seconds)
            )
            result = STK_RESULTS[push.outcome]
        else:
            await self.sandbox.pause()
            result = STK_RESULTS[push.outcome]
        await self.settle(push, result)

    async def settle(self, push: StkPush, result: StkResult) -> None:
        """Fix the final result (the query sees it from now on) and deliver the callback(s)."""
        push.result = result
        if result.code == 0:
            push.receipt = self._new_receipt()
            self._record_receipt(push)
        if push.outcome is StkOutcome.LOST_CALLBACK:
            _logger.info("sandbox STK %s settled without a callback (test number)", push.checkout_request_id)
            return
        body = callback_body(push)
        await self.sandbox.post(push.callback_url, json=body, what="STK callback")
        if push.outcome is StkOutcome.DUPLICATE_CALLBACK:
            await self.sandbox.post(push.callback_url, json=body, what="duplicate STK callback")

    def pending_prompts(self, phone: str | None = None) -> list[StkPush]:
        """Return manual pushes still waiting on the phone, oldest first."""
        return [
            push
            for push in self.pushes.values()
            if push.manual and push.action is None and (phone is None or push.phone == phone)
        ]

    def answer(self, checkout_request_id: str, action: str) -> StkPush:
        """Answer a pending phone prompt as the customer.

        Raises:
            PromptError: unknown action or prompt, or the prompt was already answered.
        """
        if action not in PROMPT_ACTIONS:
            raise PromptError(400, f"action must be one of {', '.join(PROMPT_ACTIONS)}")
        push = self.pushes.get(checkout_request_id)
        if push is None or not push.manual:
            raise PromptError(404, "no manual prompt with that CheckoutRequestID")
        if push.action is not None:
            raise PromptError(409, f"prompt already answered: {push.action}")
        push.action = action
        push.decided.set()
        self._announce(push)
        return push

    async def _wait_for_decision(self, push: StkPush) -> StkResult:
        timeout = self.sandbox.config.prompt_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                await push.decided.wait()
        except TimeoutError:
            _logger.info("sandbox STK prompt for %s timed out", mask(push.phone))
            push.action = "timeout"
            self._announce(push)
        assert push.action is not None
        return PROMPT_ACTIONS[push.action]

    def _announce(self, push: StkPush) -> None:
        self.sandbox.outbox.publish(Event("prompt", push.prompt_view()))

    def _new_receipt(self) -> str:
        while True:
            receipt = "SBX" + "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(7))
            if receipt not in self._receipts:
                self._receipts.add(receipt)
                return receipt

    def _record_receipt(self, push: StkPush) -> None:
        # M-Pesa confirms a payment to the payer by SMS; the simulator shows it on the phone.
        when = datetime.now(EAT)
        text = (
            f"{push.receipt} Confirmed. Ksh{push.amount} sent to {push.shortcode} "
            f"for account {push.account_reference} on {when:%d/%m/%y} at {when:%H:%M}."
        )
        self.sandbox.outbox.add(
            "daraja",
            "mpesa_receipt",
            e164(push.phone),
            text,
            sender="MPESA",
            ids={"CheckoutRequestID": push.checkout_request_id, "MpesaReceiptNumber": push.receipt or ""},
        )


def callback_body(push: StkPush) -> dict[str, Any]:
    """Build the Daraja STK callback JSON for a settled push."""
    assert push.result is not None
    callback: dict[str, Any] = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": push.result.code,
        "ResultDesc": push.result.desc,
    }
    if push.result.code == 0:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": push.amount},
                {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(datetime.now(EAT).strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(push.phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}
