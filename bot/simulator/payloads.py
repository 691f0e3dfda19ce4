"""Provider-shaped inbound requests, built and signed the way WhatsApp, Africa's Talking and Twilio do.

The simulator page never sees a secret: it asks the server to build these, and they go to our
public channel routes like any provider's request would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twilio.request_validator import RequestValidator

REPLY_KINDS = frozenset({"button_reply", "list_reply", "button"})
"""Taps the page can send: an interactive reply button, a list row, a template quick-reply button."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A tap on a button or list row: its kind, the id we gave it and the title the user saw."""

    kind: str
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Signed:
    """A request body ready to POST, with the headers that authenticate it."""

    content: bytes
    headers: dict[str, str]


def new_wamid() -> str:
    """Return a fresh WhatsApp message id (the engine de-duplicates on it)."""
    return "wamid.SIM" + secrets.token_hex(16).upper()


def whatsapp_webhook(
    *,
    wa_id: str,
    phone_number_id: str,
    display_phone_number: str,
    message_id: str,
    sent_at: datetime,
    text: str | None = None,
    reply: Reply | None = None,
    profile_name: str = "Simulator",
) -> dict[str, Any]:
    """Return a Cloud API messages webhook carrying one text message or one tap."""
    message: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": str(int(sent_at.timestamp()))}
    if reply is None:
        message.update(type="text", text={"body": text or ""})
    elif reply.kind == "button":
        message.update(type="button", button={"payload": reply.id, "text": reply.title})
    else:
        message.update(
            type="interactive", interactive={"type": reply.kind, reply.kind: {"id": reply.id, "title": reply.title}}
        )
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone_number_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def sign_whatsapp(payload: dict[str, Any], app_secret: str) -> Signed:
    """Serialise a webhook body and sign it as Meta does (X-Hub-Signature-256 over the raw bytes)."""
    content = json.dumps(payload, separators=(",", ":")).encode()
    digest = hmac.new(app_secret.encode(), content, hashlib.sha256).hexdigest()
    return Signed(content, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"})


def africastalking_sms(*, phone: str, short_code: str, text: str, received_at: datetime) -> dict[str, str]:
    """Return Africa's Talking's inbound SMS form (its callback carries no signature)."""
    return {
        "from": phone,
        "to": short_code,
        "text": text,
        "date": received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "id": str(uuid.uuid4()),
        "linkId": str(secrets.randbelow(10**20)).zfill(20),
        "networkCode": "63902",
    }


def twilio_sms(*, phone: str, to: str, text: str, account_sid: str) -> dict[str, str]:
    """Return Twilio's inbound SMS webhook form."""
    return {
        "MessageSid": "SM" + secrets.token_hex(16),
        "SmsSid": "SM" + secrets.token_hex(16),
        "AccountSid": account_sid,
        "From": phone,
        "To": to,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def twilio_signature(url: str, form: dict[str, str], auth_token: str) -> str:
    """Return the X-Twilio-Signature Twilio puts on a webhook to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, form))
