"""The agents' port (``services["agents"]``): M-Pesa requests through the payments lifecycle,
receipts and outcome notices through the message senders, all sent from jobs.

:func:`wire` installs it into a container and subscribes to settled payments, so an M-Pesa sale
or collection that ends (paid, cancelled, failed, timed out) is told to the agent, and a paid
sale's customer gets an SMS receipt.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from bot.jobs.queue import JobQueue, Retry
from core import collections, events, sales
from core.agent_ports import PushOutcome
from core.errors import DomainError
from core.payments import PaymentInProgress
from core.phones import mask
from core.tables import PaymentPurpose
from core.uow import UowFactory

_logger = logging.getLogger(__name__)

NOTICE_RETRY = Retry(max=3, intervals=(10, 60, 300))
UNPAID_STATES = frozenset({"failed", "cancelled", "timeout"})


class AgentServices:
    """:class:`core.agent_ports.AgentGateway` over the payment starter and the job queue."""

    def __init__(self, uow_factory: UowFactory, services: dict[str, Any], queue: JobQueue) -> None:
        self.uow_factory = uow_factory
        self.services = services
        self.queue = queue

    def request_sale_payment(self, org_id: int, sale_id: int) -> PushOutcome:
        with self.uow_factory() as uow:
            sale = sales.get_sale(uow, org_id, sale_id)
        if not sale.customer_phone:
            return PushOutcome.FAILED
        payment_id = self._start(
            org_id=org_id,
            member_id=sale.agent_id,
            purpose=PaymentPurpose.SALE,
            amount=sale.total,
            subject=str(sale_id),
            # One payment per sale, ever: a repeated request returns the same payment.
            idempotency_key=f"sale:{org_id}:{sale_id}",
            phone=sale.customer_phone,
            account_reference=sale.reference,
        )
        if isinstance(payment_id, PushOutcome):
            return payment_id
        with self.uow_factory() as uow:
            sale = sales.get_sale(uow, org_id, sale_id)
            if sale.payment_id is None:
                sales.attach_payment(uow, sale, payment_id)
                uow.commit()
        return PushOutcome.STARTED

    def request_collection_payment(self, org_id: int, collection_id: int, phone: str) -> PushOutcome:
        with self.uow_factory() as uow:
            found = collections.get_collection(uow, org_id, collection_id)
        outcome = self._start(
            org_id=org_id,
            member_id=found.agent_id,
            purpose=PaymentPurpose.COLLECTION,
            amount=found.amount,
            subject=str(collection_id),
            # A cancelled prompt may be tried again, so each request is its own payment.
            idempotency_key=f"collection:{org_id}:{collection_id}:{uuid.uuid4().hex[:16]}",
            phone=phone,
            account_reference=found.reference,
        )
        return outcome if isinstance(outcome, PushOutcome) else PushOutcome.STARTED

    def sale_recorded(self, org_id: int, sale_id: int) -> None:
        from bot.jobs.sales import send_sale_receipt

        self.queue.enqueue(send_sale_receipt, sale_id, retry=NOTICE_RETRY)

    def _start(self, **request: Any) -> int | PushOutcome:
        starter = self.services.get("payments")
        if starter is None:
            _logger.error("no payment starter configured; M-Pesa %s not started", request["purpose"])
            return PushOutcome.FAILED
        try:
            return int(starter.start(**request))
        except PaymentInProgress:
            # The payments lifecycle allows one open prompt per member (the agent) or payer phone.
            return PushOutcome.BUSY
        except DomainError as exc:
            _logger.info("M-Pesa %s refused for %s: %s", request["purpose"], mask(request["phone"]), exc.message)
            return PushOutcome.FAILED
        except Exception:
            _logger.exception("M-Pesa %s could not start for %s", request["purpose"], mask(request["phone"]))
            return PushOutcome.FAILED


def on_payment_settled(event: events.PaymentSettled) -> None:
    """Queue the agent's notice (and the customer's receipt) for a settled sale or collection payment."""
    from bot.bootstrap import current
    from bot.jobs import sales as jobs

    if event.purpose not in (PaymentPurpose.SALE, PaymentPurpose.COLLECTION):
        return
    queue = current().queue
    if event.purpose == PaymentPurpose.SALE and event.state == "paid":
        queue.enqueue(jobs.sale_paid, event.payment_id, retry=NOTICE_RETRY)
    elif event.purpose == PaymentPurpose.SALE and event.state in UNPAID_STATES:
        queue.enqueue(jobs.sale_unpaid, event.payment_id, retry=NOTICE_RETRY)
    elif event.purpose == PaymentPurpose.COLLECTION and event.state == "paid":
        queue.enqueue(jobs.collection_paid, event.payment_id, retry=NOTICE_RETRY)


def wire(uow_factory: UowFactory, services: dict[str, Any], queue: JobQueue) -> None:
    """Install ``services["agents"]`` and listen for settled payments (once per process)."""
    services["agents"] = AgentServices(uow_factory, services, queue)
    events.subscribe(events.PaymentSettled, on_payment_settled)
