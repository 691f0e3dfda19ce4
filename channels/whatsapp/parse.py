"""Turn a WhatsApp Cloud API webhook payload into inbound messages and delivery statuses.

Every entry, change, message and status is walked. Nothing here raises on an unexpected shape:
webhooks are untrusted input, and an exception would become a 500 that Meta keeps retrying.
What cannot be understood is skipped with a log line and the route still answers 200.

Duplicated message ids inside one payload are kept (both appear in ``messages``): the engine
de-duplicates atomically on ``provider_message_id`` anyway, and that one mechanism also covers
Meta's redeliveries across payloads. Statuses come back in payload order; applying them with
:data:`channels.base.STATUS_RANK` (a late "sent" never downgrades "read") is the caller's job.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

from channels.base import DeliveryStatus
from core.errors import Invalid
from core.phones import mask, normalise
from flows.messages import ChannelName, Inbound

_logger = logging.getLogger(__name__)

PROVIDER = "whatsapp"

_SKIPPED_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral"})
"""Events that are not something the user said to the bot: no Inbound, no reply."""

_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
_WABA = "whatsapp_business_account"


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookError:
    """A value-level ``errors`` item: Meta could not deliver a webhook event to us properly."""

    code: str
    title: str
    message: str = ""
    details: str = ""


@dataclasses.dataclass(slots=True)
class WebhookBatch:
    """Everything one webhook POST carried, in payload order."""

    messages: list[Inbound] = dataclasses.field(default_factory=list)
    statuses: list[DeliveryStatus] = dataclasses.field(default_factory=list)
    errors: list[WebhookError] = dataclasses.field(default_factory=list)
    contacts: dict[str, str] = dataclasses.field(default_factory=dict)
    """Profile names by phone (E.164), from ``value.contacts``."""


def parse_webhook(payload: object) -> WebhookBatch:
    """Parse a decoded webhook body; anything that is not the expected shape gives an empty batch."""
    batch = WebhookBatch()
    if not isinstance(payload, dict):
        _logger.warning("whatsapp webhook: body is not a JSON object; ignored")
        return batch
    kind = payload.get("object")
    if kind is not None and kind != "whatsapp_business_account":
        _logger.warning("whatsapp webhook: object %r is not a WhatsApp business account; ignored", kind)
        return batch
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            field = change.get("field", "messages")
            value = change.get("value")
            if field != "messages" or not isinstance(value, dict):
                _logger.debug("whatsapp webhook: change field %r skipped", field)
                continue
            _parse_value(value, batch)
    return batch


def scan(payload: object) -> tuple[list[str], bool]:
    """The ids of the messages :func:`parse_webhook` would read, and whether statuses or errors came too.

    The acknowledging route needs only these to de-duplicate and queue; walking the dicts costs
    a few microseconds where full parsing (sender numbers through phone metadata) costs ~100.
    The ids are those of messages with an id, a known type to answer and a business number.
    """
    ids: list[str] = []
    more = False
    if not isinstance(payload, dict) or payload.get("object", _WABA) != _WABA:
        return ids, more
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            more = more or bool(_dicts(value.get("statuses"))) or bool(_dicts(value.get("errors")))
            if not _str(_dict(value.get("metadata")).get("phone_number_id")):
                continue
            for raw in _dicts(value.get("messages")):
                message_id = _str(raw.get("id"))
                if message_id and (_str(raw.get("type")) or "unknown") not in _SKIPPED_TYPES:
                    ids.append(message_id)
    return ids, more


def _parse_value(value: dict[str, Any], batch: WebhookBatch) -> None:
    binding = _str(_dict(value.get("metadata")).get("phone_number_id"))
    for contact in _dicts(value.get("contacts")):
        phone = wa_phone(contact.get("wa_id"))
        name = _str(_dict(contact.get("profile")).get("name"))
        if phone and name:
            batch.contacts[phone] = name
    for raw in _dicts(value.get("messages")):
        if not binding:
            _logger.warning("whatsapp webhook: message without metadata.phone_number_id skipped")
            continue
        inbound = _parse_message(raw, binding)
        if inbound is not None:
            batch.messages.append(inbound)
    for raw in _dicts(value.get("statuses")):
        status = _parse_status(raw)
        if status is not None:
            batch.statuses.append(status)
    for raw in _dicts(value.get("errors")):
        batch.errors.append(
            WebhookError(
                code=_str(raw.get("code")),
                title=_str(raw.get("title")),
                message=_str(raw.get("message")),
                details=_str(_dict(raw.get("error_data")).get("details")),
            )
        )


def _parse_message(raw: dict[str, Any], binding: str) -> Inbound | None:
    kind = _str(raw.get("type")) or "unknown"
    message_id = _str(raw.get("id"))
    if kind in _SKIPPED_TYPES:
        _logger.debug("whatsapp webhook: %s event %s skipped", kind, message_id)
        return None
    if not message_id:
        # Without an id the engine cannot de-duplicate Meta's redeliveries.
        _logger.warning("whatsapp webhook: %s message without an id skipped", kind)
        return None
    phone = wa_phone(raw.get("from"))
    if phone is None:
        _logger.warning("whatsapp webhook: message %s from an unparsable sender skipped", message_id)
        return None
    inbound = Inbound(
        channel=ChannelName.WHATSAPP,
        provider=PROVIDER,
        binding=binding,
        phone_e164=phone,
        session_key=phone,
        provider_message_id=message_id,
        received_at=_timestamp(raw.get("timestamp")),
    )
    if kind == "text":
        return dataclasses.replace(inbound, text=_str(_dict(raw.get("text")).get("body")))
    if kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        reply_kind = _str(interactive.get("type"))
        reply = _dict(interactive.get(reply_kind)) if reply_kind in ("button_reply", "list_reply") else {}
        choice_id = _str(reply.get("id"))
        if choice_id:
            return dataclasses.replace(inbound, choice_id=choice_id, text=_str(reply.get("title")))
        return dataclasses.replace(inbound, unsupported=kind)  # e.g. a WhatsApp Flow's nfm_reply
    if kind == "button":
        # A template's quick-reply button ("Pay now"): the payload is what we put in the template.
        button = _dict(raw.get("button"))
        return dataclasses.replace(
            inbound, choice_id=_str(button.get("payload")) or None, text=_str(button.get("text"))
        )
    return dataclasses.replace(inbound, unsupported=kind)


def _parse_status(raw: dict[str, Any]) -> DeliveryStatus | None:
    message_id = _str(raw.get("id"))
    status = _str(raw.get("status"))
    if not message_id or status not in _STATUSES:
        _logger.debug("whatsapp webhook: status %r for %r skipped", status, message_id)
        return None
    errors = _dicts(raw.get("errors"))
    error = errors[0] if errors else {}
    title = _str(error.get("title")) or _str(error.get("message"))
    details = _str(_dict(error.get("error_data")).get("details"))
    message = f"{title}: {details}" if title and details else title or details
    return DeliveryStatus(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=status,
        error_code=_str(error.get("code")) or None,
        error_message=message or None,
        recipient=wa_phone(raw.get("recipient_id")),
    )


def wa_phone(raw: object) -> str | None:
    """E.164 from a WhatsApp id ("254712345678" -> "+254712345678"), or None if it is not a number.

    A wa_id is a number Meta verified by SMS when the user registered, so when the phone-number
    metadata does not (yet) know its range we still accept any 8-15 digit international number
    instead of dropping a real customer.
    """
    text = _str(raw).strip().removeprefix("+")
    if not text.isascii() or not text.isdigit():
        return None
    try:
        return normalise("+" + text)
    except Invalid:
        if 8 <= len(text) <= 15:
            _logger.debug("whatsapp: %s not in phone metadata, kept as reported", mask("+" + text))
            return "+" + text
        return None


def _timestamp(raw: object) -> datetime | None:
    text = _str(raw)
    if not text.isascii() or not text.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(text), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
