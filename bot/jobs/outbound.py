"""Sending replies and notices: in order, recorded in the message log, retried only when it may help.

A :class:`Delivery` is the provider messages of one reply (or one notice) to one phone, each
already recorded as ``queued``. :func:`send` sends them in order and records each as sent. On a
transient provider error it queues :func:`deliver` for the rest after a back-off that honours
``Retry-After``; on a final error it records the failure and, where one applies, falls back:

* a WhatsApp reply refused because the 24-hour window closed (131047) goes again as the
  approved template carrying the same text;
* a WhatsApp notice that fails goes by SMS (``bot.notifier``; late failures from status
  webhooks take the same way in ``bot.jobs.statuses``);
* a recipient who blocked us (Twilio 21610, Africa's Talking 406) is opted out.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from bot.bootstrap import Container, current
from bot.replies import Outgoing, sms_outgoing, template
from channels.errors import ProviderError, RecipientOptedOut, WindowClosed
from core import members, messagelog
from core.phones import mask
from core.uow import UnitOfWork

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = (5, 30, 120, 600)
"""Seconds before attempt 2, 3, ... (the last one repeats); a longer ``Retry-After`` wins."""

REPLY = "reply"
NOTICE = "notice"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """Provider messages to one phone, sent in order from one sender."""

    org_id: int
    member_id: int | None
    phone: str
    channel: str
    """``whatsapp`` or ``sms``."""
    provider: str
    """``whatsapp``, ``africastalking`` or ``twilio``."""
    sender: str | None
    """WhatsApp phone-number-id, or the SMS short code / number / sender id."""
    purpose: str
    lang: str
    items: tuple[tuple[int, Outgoing], ...]
    """``(message log id, message)`` pairs."""
    fallback: str = ""
    """The whole text, numbered as on SMS: sent as a template (reply) or an SMS (notice) if WhatsApp refuses."""

    def to_json(self) -> str:
        raw = dataclasses.asdict(self)
        raw["items"] = [[log_id, item.to_json()] for log_id, item in self.items]
        return json.dumps(raw)

    @classmethod
    def from_json(cls, text: str) -> Delivery:
        raw: dict[str, Any] = json.loads(text)
        raw["items"] = tuple((int(log_id), Outgoing.from_json(item)) for log_id, item in raw["items"])
        return cls(**raw)


def record(
    uow: UnitOfWork,
    container: Container,
    messages: list[Outgoing],
    *,
    org_id: int,
    member_id: int | None,
    phone: str,
    channel: str,
    provider: str,
    sender: str | None,
    purpose: str,
    lang: str,
    fallback: str = "",
) -> Delivery:
    """Record ``messages`` as queued in the message log; the caller commits, then calls :func:`send`."""
    now = container.clock.now()
    items = []
    for message in messages:
        row = messagelog.record_outbound(
            uow,
            org_id=org_id,
            member_id=member_id,
            phone=phone,
            channel=channel,
            provider=provider,
            kind=message.kind,
            purpose=purpose,
            content=message.content,
            segments=message.segments,
            at=now,
        )
        assert row.id is not None
        items.append((row.id, message))
    return Delivery(
        org_id=org_id,
        member_id=member_id,
        phone=phone,
        channel=channel,
        provider=provider,
        sender=sender,
        purpose=purpose,
        lang=lang,
        items=tuple(items),
        fallback=fallback,
    )


def deliver(spec: str, attempt: int = 0) -> None:
    """Job: send (the rest of) a delivery; ``attempt`` counts earlier transient failures."""
    send(current(), Delivery.from_json(spec), attempt)


def send(container: Container, delivery: Delivery, attempt: int = 0) -> None:
    """Send every message of ``delivery`` in order (see the module docstring for failures)."""
    for index, (log_id, item) in enumerate(delivery.items):
        try:
            message_id, status = _send_one(container, delivery, item)
        except ProviderError as exc:
            _failed(container, delivery, index, exc, attempt)
            return
        with container.uow() as uow:
            messagelog.mark_sent(uow, log_id, message_id, status, container.clock.now())
            uow.commit()
        if item.segments is not None:
            _logger.info("sms %s to %s: %d segment(s)", delivery.purpose, mask(delivery.phone), item.segments)


def _send_one(container: Container, delivery: Delivery, item: Outgoing) -> tuple[str, str]:
    clients = container.services["provider_clients"]
    if delivery.channel == "whatsapp":
        if not delivery.sender:
            raise ProviderError("whatsapp", "no_sender", "no WhatsApp phone-number-id to send from")
        return clients.whatsapp.send(delivery.sender, item.body), "sent"
    result = clients.sms(delivery.provider).send(delivery.phone, item.body, delivery.sender)
    return result.message_id, result.status


def _failed(container: Container, delivery: Delivery, index: int, exc: ProviderError, attempt: int) -> None:
    rest = delivery.items[index:]
    if exc.transient and attempt + 1 < MAX_ATTEMPTS:
        delay = max(exc.retry_after or 0.0, float(BACKOFF[min(attempt, len(BACKOFF) - 1)]))
        _logger.warning(
            "%s %s to %s: %r; attempt %d in %.0fs",
            delivery.channel,
            delivery.purpose,
            mask(delivery.phone),
            exc,
            attempt + 2,
            delay,
        )
        container.queue.enqueue(deliver, dataclasses.replace(delivery, items=rest).to_json(), attempt + 1, delay=delay)
        return
    _logger.warning("%s %s to %s failed: %r", delivery.channel, delivery.purpose, mask(delivery.phone), exc)
    now = container.clock.now()
    with container.uow() as uow:
        messagelog.mark_failed(uow, rest[0][0], exc.code, exc.message, now)
        for log_id, _ in rest[1:]:
            messagelog.mark_failed(uow, log_id, "not_sent", "an earlier message of the reply failed", now)
        if isinstance(exc, RecipientOptedOut):
            opt_out(uow, delivery.org_id, delivery.phone)
        uow.commit()
    if delivery.channel != "whatsapp" or not delivery.fallback:
        return
    if delivery.purpose == REPLY and isinstance(exc, WindowClosed):
        again = template(container.settings, delivery.phone, delivery.fallback)
        send_fallback(container, delivery, again, channel="whatsapp", provider="whatsapp", sender=delivery.sender)
    elif delivery.purpose == NOTICE:
        sms_fallback(container, delivery.org_id, delivery.member_id, delivery.phone, delivery.fallback, delivery.lang)


def sms_fallback(
    container: Container, org_id: int, member_id: int | None, phone: str, text: str, lang: str = ""
) -> None:
    """Send a notice WhatsApp could not deliver by SMS, from the configured provider."""
    clients = container.services["provider_clients"]
    provider = container.settings.sms_provider
    _logger.info("notice to %s falls back to SMS", mask(phone))
    with container.uow() as uow:
        delivery = record(
            uow,
            container,
            [sms_outgoing(text)],
            org_id=org_id,
            member_id=member_id,
            phone=phone,
            channel="sms",
            provider=provider,
            sender=clients.sms_sender_id(provider),
            purpose=NOTICE,
            lang=lang,
        )
        uow.commit()
    send(container, delivery)


def send_fallback(
    container: Container, delivery: Delivery, item: Outgoing, *, channel: str, provider: str, sender: str | None
) -> None:
    with container.uow() as uow:
        again = record(
            uow,
            container,
            [item],
            org_id=delivery.org_id,
            member_id=delivery.member_id,
            phone=delivery.phone,
            channel=channel,
            provider=provider,
            sender=sender,
            purpose=delivery.purpose,
            lang=delivery.lang,
        )
        uow.commit()
    send(container, again)


def opt_out(uow: UnitOfWork, org_id: int, phone: str) -> None:
    """The provider says the recipient blocked us (they sent STOP to the carrier): record it."""
    member = members.find_by_phone(uow, org_id, phone)
    if member is not None and members.set_opt_out(uow, member, True):
        _logger.info("member %s opted out at the provider", mask(phone))
