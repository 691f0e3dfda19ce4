"""Fake WhatsApp Cloud API: POST /{version}/{phone_number_id}/messages and signed status webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.graph import GraphError, check_message, render
from bot.sandbox.numbers import WHATSAPP_RETRY_AFTER_SECONDS, MessageOutcome, digits, message_outcome
from bot.sandbox.runtime import Sandbox

_VERSION = re.compile(r"^v\d+\.\d+$")
_FAILURES: dict[MessageOutcome, tuple[int, str, str]] = {
    MessageOutcome.OUTSIDE_WINDOW: (
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    MessageOutcome.REJECTED: (131026, "Message undeliverable", "Message Undeliverable."),
    MessageOutcome.UNDELIVERED: (131026, "Message undeliverable", "Message Undeliverable."),
}


def sign(body: bytes, app_secret: str) -> str:
    """Return the X-Hub-Signature-256 header value Meta puts on a webhook body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _wamid(wa_id: str) -> str:
    raw = f"{wa_id}:{secrets.token_hex(12).upper()}".encode()
    return "wamid.HBgM" + base64.b64encode(raw).decode().rstrip("=")


class WhatsApp:
    """The Cloud API messages endpoint, bound to one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._conversations: dict[str, str] = {}

    def routes(self) -> list[BaseRoute]:
        """Return the routes at the Graph API's real paths."""
        return [Route("/{version}/{phone_number_id}/messages", self.send, methods=["POST"])]

    async def send(self, request: Request) -> Response:
        """Accept a text, interactive or template message and report its fate by webhook."""
        try:
            phone_number_id = self._check_request(request)
            payload = await _json(request)
            if payload.get("status") == "read":
                # Mark-as-read shares this path; it has no recipient and no status webhook.
                return JSONResponse({"success": True})
            kind = check_message(payload)
        except GraphError as exc:
            return exc.response()
        to = str(payload["to"])
        wa_id = digits(to)
        outcome = message_outcome(wa_id)
        if outcome is MessageOutcome.RATE_LIMITED:
            error = GraphError(429, 130429, "Cloud API message throughput has been reached.", title="Rate limit hit")
            return error.response(headers={"Retry-After": str(WHATSAPP_RETRY_AFTER_SECONDS)})
        if outcome is MessageOutcome.OUTSIDE_WINDOW and kind == "template":
            outcome = MessageOutcome.DELIVERED  # templates are exactly what may open a closed window
        message_id = _wamid(wa_id)
        failure = _FAILURES.get(outcome)
        self.sandbox.outbox.add(
            "whatsapp",
            kind,
            "+" + wa_id,
            render(payload),
            sender=phone_number_id,
            payload=payload,
            ids={"wamid": message_id},
            status="failed" if failure else "accepted",
            error=str(failure[0]) if failure else None,
        )
        if self.sandbox.config.whatsapp_status_webhook_url:
            status = {"id": message_id, "recipient_id": wa_id}
            job = self._statuses(phone_number_id, status, kind, failure)
            self.sandbox.spawn(job, name=f"whatsapp status {message_id}")
        message: dict[str, Any] = {"id": message_id}
        if kind == "template":
            message["message_status"] = "accepted"
        return JSONResponse(
            {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id}], "messages": [message]}
        )

    def _check_request(self, request: Request) -> str:
        config = self.sandbox.config
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), config.whatsapp_token.encode()):
            raise GraphError(
                401, 190, "Invalid OAuth access token.", title="Invalid OAuth access token - Cannot parse access token"
            )
        version, phone_number_id = request.path_params["version"], request.path_params["phone_number_id"]
        if not _VERSION.fullmatch(version):
            raise GraphError(400, 2500, f"Unknown path components: /{version}", title="Unknown path components")
        if config.whatsapp_phone_number_id not in (None, phone_number_id):
            raise GraphError(
                400,
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist.",
                title="Unsupported post request",
            )
        return str(phone_number_id)

    async def _statuses(
        self, phone_number_id: str, status: dict[str, Any], kind: str, failure: tuple[int, str, str] | None
    ) -> None:
        await self.sandbox.pause()
        if failure is not None:
            code, title, details = failure
            href = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
            error = {"code": code, "title": title, "message": title, "error_data": {"details": details}}
            await self._post(phone_number_id, {**status, "status": "failed", "errors": [{**error, "href": href}]})
            return
        category = "utility" if kind == "template" else "service"
        conversation = self._conversations.setdefault(status["recipient_id"], secrets.token_hex(16))
        billing = {
            "conversation": {"id": conversation, "origin": {"type": category}},
            "pricing": {"billable": True, "pricing_model": "CBP", "category": category},
        }
        await self._post(phone_number_id, {**status, "status": "sent", **billing})
        await self._post(phone_number_id, {**status, "status": "delivered", **billing})

    async def _post(self, phone_number_id: str, status: dict[str, Any]) -> None:
        config = self.sandbox.config
        url = config.whatsapp_status_webhook_url
        if not url:
            return
        status["timestamp"] = str(int(time.time()))
        metadata = {"display_phone_number": config.whatsapp_display_phone_number, "phone_number_id": phone_number_id}
        value = {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [status]}
        entry = {"id": config.whatsapp_business_account_id, "changes": [{"value": value, "field": "messages"}]}
        body = {"object": "whatsapp_business_account", "entry": [entry]}
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, config.whatsapp_app_secret)}
        await self.sandbox.post(url, content=raw, headers=headers, what="WhatsApp status webhook")


async def _json(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise GraphError(400, 100, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise GraphError(400, 100, "The request body must be a JSON object.")
    return payload
