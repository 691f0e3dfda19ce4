"""Outbound webhook jobs: sign and POST one delivery, log the attempt, retry with backoff.

:func:`install` subscribes to the domain events that become webhooks: committed deliveries are
queued one job each, and settled payments become ``payment.succeeded`` / ``payment.failed``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from bot.jobs.queue import Retry
from core import announcements, events, webhook_signature, webhooks
from core.tables import (
    Collection,
    CollectionStatus,
    DeliveryStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentState,
)
from core.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import Container

_logger = logging.getLogger(__name__)

RETRY = Retry(max=5, intervals=(30, 120, 600, 1800, 7200))
"""After the first try: 30 s, 2 min, 10 min, 30 min, 2 h; six attempts over about 3 h in all."""
MAX_ATTEMPTS = RETRY.max + 1
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
HTTP_SERVICE = "webhooks.http"
"""``container.services`` key of the httpx.Client used to deliver (tests put a MockTransport there)."""
USER_AGENT = "Jumbe-Webhooks/1"

_FAILED_STATES = {PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.TIMEOUT}
_FINAL_STATES = {str(state) for state in (*_FAILED_STATES, PaymentState.PAID)}
EVENT_RETRY = Retry(max=3, intervals=(10, 60, 300))
_client: httpx.Client | None = None


def current() -> Container:
    # Imported here: bootstrap installs this module, so a top-level import would be circular.
    from bot.bootstrap import current as container

    return container()


class DeliveryFailed(Exception):
    """Raised so the queue retries the job later (the attempt is already logged)."""


def http_client(container: Container) -> httpx.Client:
    global _client
    client = container.services.get(HTTP_SERVICE)
    if client is not None:
        return client  # type: ignore[no-any-return]
    if _client is None:
        # No redirects: a signed delivery goes where it was configured, nowhere else.
        _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": USER_AGENT})
    return _client


def deliver_webhook(delivery_id: int) -> None:
    """Send one delivery once; raise :class:`DeliveryFailed` to be retried while attempts remain."""
    container = current()
    with container.uow() as uow:
        attempt = webhooks.prepare(uow, delivery_id)
    if attempt is None:
        return  # delivered already, gone, or its subscription was paused
    now = container.clock.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        webhook_signature.SIGNATURE_HEADER: webhook_signature.sign(attempt.secret, attempt.body, int(now.timestamp())),
        "Jumbe-Event": attempt.event,
        "Jumbe-Event-Id": attempt.event_id,
        "Jumbe-Delivery": str(delivery_id),
    }
    status_code: int | None = None
    error: str | None = None
    try:
        response = http_client(container).post(attempt.url, content=attempt.body, headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:200]
    retry_in = RETRY.interval(attempt.attempt - 1) if attempt.attempt < MAX_ATTEMPTS else None
    with container.uow() as uow:
        status = webhooks.record_attempt(
            uow, delivery_id, status_code=status_code, error=error, now=container.clock.now(), retry_in=retry_in
        )
        uow.commit()
    if status == DeliveryStatus.PENDING:
        _logger.info("webhook delivery %s attempt %s failed (%s); will retry", delivery_id, attempt.attempt, error)
        raise DeliveryFailed(f"delivery {delivery_id} attempt {attempt.attempt}: {error}")
    if status == DeliveryStatus.FAILED:
        _logger.warning("webhook delivery %s failed for good after %s attempts", delivery_id, attempt.attempt)


def send_deliveries(delivery_ids: list[int]) -> None:
    """Queue one delivery job per id (jobs retry themselves)."""
    queue = current().queue
    for delivery_id in delivery_ids:
        try:
            queue.enqueue(deliver_webhook, delivery_id, retry=RETRY)
        except DeliveryFailed:
            pass  # a synchronous test queue ran it at once and it failed; it is logged and left pending


def sweep_webhooks() -> int:
    """Re-queue pending deliveries whose job was lost (e.g. Redis flushed); returns how many."""
    container = current()
    with container.uow() as uow:
        ids = webhooks.stuck(uow, container.clock.now())
    send_deliveries(ids)
    return len(ids)


class NotSettledYet(Exception):
    """The settlement was announced but is not visible yet: retried until its transaction shows."""


def emit_payment_event(payment_id: int, settled_state: str | None = None) -> None:
    """Turn a settled payment into ``payment.succeeded`` or ``payment.failed`` (once per state).

    ``settled_state`` is what the settlement announced; if the row does not show a final state yet
    (the announcing transaction has not committed), the job raises and the queue retries it.
    """
    container = current()
    with container.uow() as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None:
            return
        if payment.state == PaymentState.PAID:
            event = "payment.succeeded"
        elif payment.state in _FAILED_STATES:
            event = "payment.failed"
        elif settled_state in _FINAL_STATES:
            raise NotSettledYet(f"payment {payment_id} announced {settled_state}, still {payment.state}")
        else:
            return  # still open or unknown: nothing final to announce
        org = uow.session.get(Organisation, payment.org_id)
        currency = org.currency if org else ""
        now = container.clock.now()
        webhooks.emit(
            uow,
            payment.org_id,
            event,
            payment_data(payment, currency),
            now,
            event_id=f"evt_payment_{payment_id}_{payment.state}"[:40],
        )
        paid = _collection_paid_by(uow, payment)
        if paid is not None:
            webhooks.emit(
                uow,
                payment.org_id,
                "collection.paid",
                collection_data(paid, currency),
                now,
                event_id=f"evt_collection_{paid.id}_paid",
            )
        uow.commit()


def _collection_paid_by(uow: UnitOfWork, payment: Payment) -> Collection | None:
    if payment.purpose != PaymentPurpose.COLLECTION or payment.state != PaymentState.PAID:
        return None
    try:
        found = uow.session.get(Collection, int(payment.subject or ""))
    except ValueError:
        return None
    if found is None or found.status != CollectionStatus.PAID or found.paid_payment_id != payment.id:
        return None
    return found


def collection_data(found: Collection, currency: str) -> dict[str, Any]:
    return {
        "id": found.id,
        "reference": found.reference,
        "agent_id": found.agent_id,
        "amount": found.amount,
        "currency": currency,
        "due_date": found.due_date,
        "paid_payment_id": found.paid_payment_id,
        "paid_at": found.paid_at,
    }


def payment_data(payment: Payment, currency: str) -> dict[str, Any]:
    return {
        "id": payment.id,
        "member_id": payment.member_id,
        "state": str(payment.state),
        "purpose": str(payment.purpose),
        "subject": payment.subject,
        "amount": payment.amount,
        "currency": currency,
        "paid_amount": payment.paid_amount,
        "phone": payment.phone,
        "mpesa_receipt": payment.mpesa_receipt,
        "result_code": payment.result_code,
        "result_desc": payment.result_desc,
        "settled_at": payment.settled_at,
    }


def _on_deliveries(event: webhooks.DeliveriesCreated) -> None:
    send_deliveries(list(event.delivery_ids))


def _on_payment_settled(event: events.PaymentSettled) -> None:
    queue = current().queue
    try:
        queue.enqueue(emit_payment_event, event.payment_id, event.state, retry=EVENT_RETRY)
    except NotSettledYet:
        pass  # a synchronous test queue ran it at once; a real queue retries it


def install(container: Container) -> None:
    """Subscribe once per process (subscribing the same functions again is a no-op)."""
    events.subscribe(webhooks.DeliveriesCreated, _on_deliveries)
    events.subscribe(events.PaymentSettled, _on_payment_settled)
    announcements.install()
