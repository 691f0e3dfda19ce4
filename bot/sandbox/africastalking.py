"""Fake Africa's Talking bulk SMS: POST /version1/messaging and delivery reports."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.numbers import MessageOutcome, message_outcome
from bot.sandbox.runtime import Sandbox
from bot.sandbox.sms import segments

_RECIPIENT = re.compile(r"^\+\d{9,15}$")
_COST_PER_PART = 8000
"""KES 0.8000 per part, kept in ten-thousandths of a shilling (AT quotes four decimals)."""
_SAFARICOM = "63902"


def _kes(ten_thousandths: int) -> str:
    return f"KES {ten_thousandths // 10000}.{ten_thousandths % 10000:04d}"


@dataclass(frozen=True, slots=True)
class _Recipient:
    number: str
    status_code: int
    status: str
    message_id: str
    cost: int
    outcome: MessageOutcome

    def to_dict(self) -> dict[str, Any]:
        cost = _kes(self.cost) if self.status_code < 400 else "0"
        return {
            "cost": cost,
            "messageId": self.message_id,
            "number": self.number,
            "status": self.status,
            "statusCode": self.status_code,
        }


class AfricasTalking:
    """The AT messaging endpoint, bound to one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[BaseRoute]:
        """Return the routes at AT's real paths."""
        return [Route("/version1/messaging", self.send, methods=["POST"])]

    async def send(self, request: Request) -> Response:
        """Send one message to comma-separated recipients; success is reported per recipient."""
        config = self.sandbox.config
        form = await request.form()
        username = str(form.get("username", ""))
        api_key = request.headers.get("apikey", "")
        if not (
            hmac.compare_digest(username.encode(), config.at_username.encode())
            and hmac.compare_digest(api_key.encode(), config.at_api_key.encode())
        ):
            # AT answers authentication failures in plain text, not JSON.
            return PlainTextResponse("The supplied authentication is invalid", status_code=401)
        for name in ("to", "message"):
            if not str(form.get(name, "")).strip():
                return PlainTextResponse(f"Request is missing required form field '{name}'", status_code=400)
        message = str(form["message"])
        sender = str(form.get("from", "")) or "AFRICASTKNG"
        parts = segments(message)
        recipients = [self._recipient(number.strip(), parts) for number in str(form["to"]).split(",")]
        for recipient in recipients:
            failed = recipient.status_code >= 400
            self.sandbox.outbox.add(
                "africastalking",
                "sms",
                recipient.number,
                message,
                sender=sender,
                ids={"messageId": recipient.message_id},
                status="failed" if failed else "accepted",
                error=recipient.status if failed else None,
            )
        if config.at_delivery_report_url:
            url = config.at_delivery_report_url
            self.sandbox.spawn(self._report(url, recipients), name="AT delivery reports")
        sent = [r for r in recipients if r.status_code < 400]
        summary = (
            f"Sent to {len(sent)}/{len(recipients)} Total Cost: {_kes(sum(r.cost for r in sent))} "
            f"Message parts: {parts}"
        )
        if "application/json" not in request.headers.get("accept", ""):
            # Without Accept: application/json AT answers XML; an adapter that forgets the header sees it.
            return Response(_xml(summary, recipients), status_code=201, media_type="application/xml")
        body = {"SMSMessageData": {"Message": summary, "Recipients": [r.to_dict() for r in recipients]}}
        return JSONResponse(body, status_code=201)

    def _recipient(self, number: str, parts: int) -> _Recipient:
        outcome = message_outcome(number)
        if not _RECIPIENT.fullmatch(number) or outcome is MessageOutcome.REJECTED:
            return _Recipient(number, 403, "InvalidPhoneNumber", "None", 0, outcome)
        message_id = "ATXid_" + secrets.token_hex(16)
        return _Recipient(number, 101, "Success", message_id, _COST_PER_PART * parts, outcome)

    async def _report(self, url: str, recipients: list[_Recipient]) -> None:
        await self.sandbox.pause()
        for recipient in recipients:
            if recipient.status_code >= 400:
                continue  # never accepted, so AT has nothing to report on
            form = {
                "id": recipient.message_id,
                "status": "Success",
                "phoneNumber": recipient.number,
                "networkCode": _SAFARICOM,
                "retryCount": "0",
            }
            if recipient.outcome is MessageOutcome.UNDELIVERED:
                form.update(status="Failed", failureReason="AbsentSubscriber")
            await self.sandbox.post(url, data=form, what="AT delivery report")


def _xml(summary: str, recipients: list[_Recipient]) -> str:
    rows = "".join(
        "<Recipient>"
        + "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in recipient.to_dict().items())
        + "</Recipient>"
        for recipient in recipients
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AfricasTalkingResponse><SMSMessageData>'
        f"<Message>{escape(summary)}</Message><Recipients>{rows}</Recipients>"
        "</SMSMessageData></AfricasTalkingResponse>"
    )
