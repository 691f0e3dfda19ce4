"""Telling a member (or any phone) something outside a conversation: ``services["notifier"]``.

Used for payment confirmations, agents' notices and customers' receipts. The rule:

* WhatsApp free-form when the phone wrote to us on WhatsApp in the last 24 hours (and the
  member did not ask for SMS), from the business number it wrote to;
* otherwise SMS, from the provider and number the phone last texted (else the configured ones).
  Outside the window we do not pay for a template here: a notice is short and SMS reaches every
  phone; approved templates are for reminders and broadcasts (``bot.delivery``);
* a WhatsApp notice that fails, at once or later by status webhook (131047 window closed,
  131026 undeliverable), is sent again by SMS.

Notices are transactional: they go to members who opted out of reminders and broadcasts too.
:meth:`Notifier.notify` only queues a job, so it is safe inside a request or a database
transaction, and provider trouble never reaches the caller.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.bootstrap import Container, current
from bot.jobs import outbound
from bot.jobs.queue import JobQueue
from bot.replies import sms_outgoing, whatsapp_notice
from core import contacts, phones
from core.phones import mask
from core.tables import Member, Organisation
from core.uow import UowFactory
from flows.i18n import catalog, t

_logger = logging.getLogger(__name__)


class Notifier:
    """Implements ``core.ports.Notifier`` and the plain-text forms the brief of payments asked for."""

    def __init__(self, uow_factory: UowFactory, queue: JobQueue | None = None) -> None:
        """``queue`` None: the process container's queue, looked up when a notice is queued."""
        self.uow_factory = uow_factory
        self._queue = queue

    @property
    def queue(self) -> JobQueue:
        return self._queue if self._queue is not None else current().queue

    def notify(
        self, org_id: int, member_id: int, text: str, /, *, pay_now_payload: str | None = None, **values: object
    ) -> None:
        """Queue ``text`` for the member; a catalog key ("sales.paid") is translated into their language.

        Args:
            text: the message, or a catalog key filled with ``values``.
            pay_now_payload: adds a "Pay now" button on WhatsApp whose tap comes back as this choice id.
        """
        with self.uow_factory() as uow:
            member = uow.session.get(Member, member_id)
            org = uow.session.get(Organisation, org_id)
        if member is None or org is None or member.org_id != org_id:
            _logger.warning("notice for unknown member %s of org %s dropped", member_id, org_id)
            return
        lang = member.language or org.default_language
        body = t(lang, text, **values) if text in catalog(lang) else text
        self.queue.enqueue(send_notice, org_id, member_id, member.phone, body, pay_now_payload or "", lang)

    def notify_phone(self, org_id: int, phone: str, text: str, /, **values: object) -> None:
        """Queue ``text`` for any phone (a customer's receipt), in the organisation's language."""
        e164 = phones.normalise(phone)
        with self.uow_factory() as uow:
            org = uow.session.get(Organisation, org_id)
        if org is None:
            _logger.warning("notice for org %s dropped: no such organisation", org_id)
            return
        lang = org.default_language
        body = t(lang, text, **values) if text in catalog(lang) else text
        self.queue.enqueue(send_notice, org_id, None, e164, body, "", lang)


class SmsNotifier(Notifier):
    """The name the payments wiring first gave its provisional notifier; now the same routing."""

    def __init__(self, uow_factory: UowFactory, clients: object = None) -> None:
        super().__init__(uow_factory)


def send_notice(org_id: int, member_id: int | None, phone: str, text: str, pay_now_payload: str, lang: str) -> None:
    """Job: send one notice by WhatsApp inside the window, else by SMS (see the module docstring)."""
    container = current()
    now = container.clock.now()
    with container.uow() as uow:
        on_whatsapp = contacts.find(uow, org_id, phone, contacts.WHATSAPP)
        on_sms = contacts.find(uow, org_id, phone, "sms")
        member = uow.session.get(Member, member_id) if member_id is not None else None
        prefers_sms = member is not None and member.preferred_channel == "sms"
        window = on_whatsapp is not None and contacts.window_open(on_whatsapp.last_inbound_at, now)
        if window and on_whatsapp is not None and on_whatsapp.binding and not prefers_sms:
            item = whatsapp_notice(text, phone, lang, pay_now_payload=pay_now_payload or None)
            delivery = _record(uow, container, [item], org_id, member_id, phone, lang, "whatsapp", on_whatsapp.binding)
            delivery = dataclasses.replace(delivery, fallback=text)  # SMS if WhatsApp refuses
        else:
            provider = on_sms.provider if on_sms is not None and on_sms.provider else container.settings.sms_provider
            clients: Any = container.services["provider_clients"]
            sender = on_sms.binding if on_sms is not None and on_sms.binding else clients.sms_sender_id(provider)
            delivery = _record(uow, container, [sms_outgoing(text)], org_id, member_id, phone, lang, provider, sender)
        uow.commit()
    _logger.info("notice to %s by %s", mask(phone), delivery.channel)
    outbound.send(container, delivery)


def _record(
    uow: Any,
    container: Container,
    items: list[Any],
    org_id: int,
    member_id: int | None,
    phone: str,
    lang: str,
    provider: str,
    sender: str | None,
) -> outbound.Delivery:
    return outbound.record(
        uow,
        container,
        items,
        org_id=org_id,
        member_id=member_id,
        phone=phone,
        channel="whatsapp" if provider == "whatsapp" else "sms",
        provider=provider,
        sender=sender,
        purpose=outbound.NOTICE,
        lang=lang,
    )
