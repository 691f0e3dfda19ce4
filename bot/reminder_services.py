"""Wiring of reminders into a container: senders, delivery, the pay shortcut, the payment subscriber."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core import contacts, events

if TYPE_CHECKING:
    from bot.bootstrap import Container

_logger = logging.getLogger(__name__)


def install(container: Container) -> None:
    """Add ``senders``-backed ``delivery`` and ``shortcuts`` to the container's services."""
    from bot.delivery import Delivery
    from bot.outbound import ProviderSenders
    from bot.providers import ProviderClients
    from bot.shortcuts import PayShortcuts

    services = container.services
    clients = services.get("provider_clients") or ProviderClients(container.settings)
    senders = services.setdefault("reminder_senders", ProviderSenders(clients, container.uow))
    services.setdefault(
        "delivery",
        Delivery(container.uow, container.clock, container.queue, senders, window=contacts.whatsapp_window_open),
    )
    services.setdefault("shortcuts", PayShortcuts(container.uow, container.clock))
    events.subscribe(events.PaymentSettled, on_payment_settled)


def on_payment_settled(event: events.PaymentSettled) -> None:
    """A PAID payment stops the reminders of what it paid (checked against the ledger, in a job)."""
    if event.state != "paid":
        return
    from bot.bootstrap import current
    from bot.jobs.reminders import cancel_settled_reminders

    current().queue.enqueue(cancel_settled_reminders, event.org_id, event.member_id)
