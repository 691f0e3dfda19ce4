"""Fake Twilio Programmable Messaging: create a Message and send signed status callbacks."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator

from bot.sandbox.numbers import MessageOutcome, message_outcome
from bot.sandbox.runtime import Sandbox
from bot.sandbox.sms import segments

_API_VERSION = "2010-04-01"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_BODY = 1600


def twilio_error(status_code: int, code: int, message: str) -> JSONResponse:
    """Render an error the way Twilio's REST API does."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status_code,
    }
    return JSONResponse(body, status_code=status_code)


class Twilio:
    """The Twilio Messages endpoint, bound to one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.validator = RequestValidator(sandbox.config.twilio_auth_token)

    def routes(self) -> list[BaseRoute]:
        """Return the routes at Twilio's real paths."""
        return [Route("/2010-04-01/Accounts/{account_sid}/Messages.json", self.create_message, methods=["POST"])]

    async def create_message(self, request: Request) -> Response:
        """Queue an SMS and answer with the Message resource (201), as Twilio does."""
        account_sid = request.path_params["account_sid"]
        if not self._authenticated(request, account_sid):
            return twilio_error(401, 20003, "Authenticate")
        form = await request.form()
        to = str(form.get("To", "")).strip()
        sender = str(form.get("From", "")).strip() or str(form.get("MessagingServiceSid", "")).strip()
        body = str(form.get("Body", ""))
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > _MAX_BODY:
            return twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not _E164.fullmatch(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        outcome = message_outcome(to)
        if outcome is MessageOutcome.REJECTED:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        self.sandbox.outbox.add("twilio", "sms", to, body, sender=sender, ids={"sid": sid})
        callback = str(form.get("StatusCallback", "")).strip()
        if callback:
            params = {"AccountSid": account_sid, "ApiVersion": _API_VERSION, "From": sender, "MessageSid": sid}
            params.update(SmsSid=sid, To=to)
            self.sandbox.spawn(self._callbacks(callback, params, outcome), name=f"twilio status {sid}")
        return JSONResponse(_resource(account_sid, sid, to, sender, body), status_code=201)

    def _authenticated(self, request: Request, account_sid: str) -> bool:
        config = self.sandbox.config
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            scheme.lower() == "basic"
            and hmac.compare_digest(user.encode(), config.twilio_account_sid.encode())
            and hmac.compare_digest(password.encode(), config.twilio_auth_token.encode())
            and account_sid == config.twilio_account_sid
        )

    async def _callbacks(self, url: str, params: dict[str, str], outcome: MessageOutcome) -> None:
        await self.sandbox.pause()
        await self._status(url, {**params, "MessageStatus": "sent", "SmsStatus": "sent"})
        if outcome is MessageOutcome.UNDELIVERED:
            final = {"MessageStatus": "undelivered", "SmsStatus": "undelivered", "ErrorCode": "30003"}
        else:
            final = {"MessageStatus": "delivered", "SmsStatus": "delivered"}
        await self._status(url, {**params, **final})

    async def _status(self, url: str, params: dict[str, str]) -> None:
        signature = self.validator.compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature}
        await self.sandbox.post(url, data=params, headers=headers, what="Twilio status callback")


def _resource(account_sid: str, sid: str, to: str, sender: str, body: str) -> dict[str, Any]:
    now = format_datetime(datetime.now(UTC).replace(microsecond=0))
    uri = f"/{_API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    from_service = sender.startswith("MG")
    return {
        "account_sid": account_sid,
        "api_version": _API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": None if from_service else sender,
        "messaging_service_sid": sender if from_service else None,
        "num_media": "0",
        "num_segments": str(segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to,
        "uri": f"{uri}.json",
    }
