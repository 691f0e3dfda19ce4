"""Payments wiring: the starter flows call (``services["payments"]``) and the gateway.

:func:`install` puts into a container's services, unless something is there already (tests and
other parts may put their own first):

* ``payments``: :class:`PaymentService` (core.ports.PaymentStarter): write the payment, queue its push;
* ``payment_gateway``: :class:`bot.mpesa_gateway.DarajaGateway` (core.ports.PaymentGateway);

and subscribes :func:`on_payment_settled` to :class:`core.events.PaymentSettled` (once per process).
Outcome notices go through ``services["notifier"]`` (core.ports.Notifier), which
``bot.messaging`` installs: WhatsApp inside the 24-hour window, else SMS.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.queue import JobQueue
from core import events, payments
from core.clock import Clock
from core.members import get_member
from core.tables import Organisation, PaymentPurpose
from core.uow import UowFactory

if TYPE_CHECKING:
    from bot.bootstrap import Container

_logger = logging.getLogger(__name__)


class PaymentService:
    """Starts payments: the row first, committed, then the push job (never the push inline)."""

    def __init__(self, uow_factory: UowFactory, queue: JobQueue, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.queue = queue
        self.clock = clock

    def start(
        self,
        *,
        org_id: int,
        member_id: int,
        purpose: PaymentPurpose,
        amount: int,
        subject: str | None,
        idempotency_key: str,
        phone: str | None = None,
        account_reference: str | None = None,
    ) -> int:
        """See core.ports.PaymentStarter; raises its domain errors unchanged."""
        from bot.jobs.payments import PUSH_RETRY, push_payment

        with self.uow_factory() as uow:
            org = uow.session.get(Organisation, org_id)
            if org is None:
                raise LookupError(f"no organisation {org_id}")
            member = get_member(uow, org_id, member_id)
            payment = payments.start_payment(
                uow,
                org,
                member,
                purpose=PaymentPurpose(purpose),
                amount=amount,
                subject=subject,
                idempotency_key=idempotency_key,
                phone=phone,
                account_reference=account_reference,
                now=self.clock.now(),
            )
            uow.commit()
        assert payment.id is not None
        if payment.push_started_at is None:
            # A repeated start (same key) re-queues harmlessly: only one push job can claim it.
            self.queue.enqueue(push_payment, payment.id, retry=PUSH_RETRY)
        return payment.id


def on_payment_settled(event: events.PaymentSettled) -> None:
    """Queue the member's outcome notice (after the settlement committed)."""
    from bot.bootstrap import current
    from bot.jobs.payments import NOTICE_RETRY, notify_payment

    if event.state == "unknown" and not event.needs_review:
        return  # nothing to tell yet
    current().queue.enqueue(notify_payment, event.payment_id, event.state, retry=NOTICE_RETRY)


def install(container: Container) -> None:
    from bot.mpesa_gateway import DarajaGateway

    services = container.services
    services.setdefault("payments", PaymentService(container.uow, container.queue, container.clock))
    services.setdefault("payment_gateway", DarajaGateway(container.settings, container.clock))
    events.subscribe(events.PaymentSettled, on_payment_settled)
