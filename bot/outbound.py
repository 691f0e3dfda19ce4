"""Ports through which reminders and broadcasts leave: WhatsApp and SMS, per organisation.

Delivery code talks only to :class:`WhatsAppPort` and :class:`SmsPort`; tests pass fakes.
:class:`ProviderSenders` builds the real ones over the shared provider clients
(``services["provider_clients"]``), with the organisation's own WhatsApp phone-number-id and
SMS short code from its channel bindings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from sqlmodel import col, select

from bot.providers import ProviderClients
from channels.sms.base import SmsSender
from channels.whatsapp import GraphClient, render, template_message
from core import orgs
from core.tables import BindingKind, ChannelBinding
from core.uow import UowFactory
from flows.messages import Menu, Option, Text

_logger = logging.getLogger(__name__)


class WhatsAppPort(Protocol):
    def send_text(self, to: str, body: str, *, buttons: Sequence[tuple[str, str]] = ()) -> str:
        """Free-form text (inside the 24-hour window), with quick-reply ``(id, title)`` buttons."""
        ...

    def send_template(self, to: str, name: str, lang: str, params: Sequence[str], *, button_payload: str | None) -> str:
        """An approved template (outside the window); returns the provider message id."""
        ...


class SmsPort(Protocol):
    def send_text(self, to: str, body: str) -> str:
        """Send one SMS; returns the provider message id."""
        ...


class Senders(Protocol):
    def whatsapp(self, org_id: int) -> WhatsAppPort | None:
        """The organisation's WhatsApp sender, or None when it has no WhatsApp number."""
        ...

    def sms(self, org_id: int) -> SmsPort | None: ...


class GraphWhatsApp:
    """:class:`WhatsAppPort` over the Cloud API client, from one business phone number."""

    def __init__(self, client: GraphClient, phone_number_id: str) -> None:
        self.client = client
        self.phone_number_id = phone_number_id

    def send_text(self, to: str, body: str, *, buttons: Sequence[tuple[str, str]] = ()) -> str:
        message = Menu(body, tuple(Option(i, label) for i, label in buttons)) if buttons else Text(body)
        (payload,) = render([message], to, labels={})[:1]
        return self.client.send(self.phone_number_id, payload)

    def send_template(self, to: str, name: str, lang: str, params: Sequence[str], *, button_payload: str | None) -> str:
        payload = template_message(to, name, lang, params, button_payload=button_payload)
        return self.client.send(self.phone_number_id, payload)


class ProviderSms:
    """:class:`SmsPort` over an Africa's Talking or Twilio sender."""

    def __init__(self, sender: SmsSender, sender_id: str | None, provider: str = "sms") -> None:
        self.sender = sender
        self.sender_id = sender_id
        self.provider = provider

    def send_text(self, to: str, body: str) -> str:
        return self.sender.send(to, body, self.sender_id).message_id


class ProviderSenders:
    """The real senders over the shared provider clients; addresses looked up per organisation (cached)."""

    def __init__(self, clients: ProviderClients, uow_factory: UowFactory) -> None:
        self.clients = clients
        self.uow_factory = uow_factory
        self._addresses: dict[tuple[int, BindingKind], str | None] = {}
        self._lock = threading.Lock()

    def _address(self, org_id: int, kind: BindingKind) -> str | None:
        """The organisation's own address of ``kind`` (not the catch-all), if any."""
        key = (org_id, kind)
        with self._lock:
            if key in self._addresses:
                return self._addresses[key]
        with self.uow_factory() as uow:
            found = uow.session.exec(
                select(ChannelBinding.address)
                .where(
                    ChannelBinding.org_id == org_id,
                    ChannelBinding.kind == kind,
                    ChannelBinding.address != orgs.CATCH_ALL,
                )
                .order_by(col(ChannelBinding.id))
            ).first()
        with self._lock:
            self._addresses[key] = found
        return found

    def whatsapp(self, org_id: int) -> WhatsAppPort | None:
        phone_number_id = self._address(org_id, BindingKind.WHATSAPP)
        return GraphWhatsApp(self.clients.whatsapp, phone_number_id) if phone_number_id else None

    def sms(self, org_id: int) -> SmsPort | None:
        settings = self.clients.settings
        sender_id = self.clients.sms_sender_id()
        if sender_id is None and settings.sms_provider == "africastalking":
            sender_id = self._address(org_id, BindingKind.SMS)
        return ProviderSms(self.clients.sms(), sender_id, settings.sms_provider)
