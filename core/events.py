"""Domain events: a small synchronous bus, published only after the database commit.

Core code calls :func:`publish_after_commit` inside a unit of work; subscribers run after that
transaction commits (never if it rolls back). Subscribers must be quick and must not raise:
enqueue a job rather than call a provider. A failing subscriber is logged and skipped.

Subscribe once at start-up (``subscribe(PaymentSettled, handler)``); subscribing the same
handler again is a no-op, so a composition root that runs twice does not double-deliver.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from core.uow import UnitOfWork

_logger = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]

_PENDING = "jumbe_pending_events"
_LISTENING = "jumbe_event_listeners"


@dataclasses.dataclass(frozen=True, slots=True)
class PaymentSettled:
    """A payment left CREATED/PENDING for a settled state (or UNKNOWN), or was re-settled once.

    Attributes:
        state: the new state's value ("paid", "failed", "cancelled", "timeout", "unknown").
        purpose: "contribution", "loan_repayment", "collection" or "sale".
        subject: what it paid (loan id, cycle, collection id, sale id), as stored on the payment.
        needs_review: the payment is held (or flagged) for an operator.
    """

    payment_id: int
    org_id: int
    member_id: int
    state: str
    amount: int
    purpose: str
    subject: str | None
    result_code: int | None = None
    receipt: str | None = None
    needs_review: bool = False
    review_reason: str | None = None


class EventBus:
    """Handlers by event type; :meth:`publish` calls them in subscription order."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        handlers = self._handlers.setdefault(kind, [])
        if handler not in handlers:
            handlers.append(handler)

    def unsubscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        handlers = self._handlers.get(kind, [])
        if handler in handlers:
            handlers.remove(handler)

    def publish(self, event: object) -> None:
        for handler in list(self._handlers.get(type(event), ())):
            try:
                handler(event)
            except Exception:
                # The transaction is committed; one broken subscriber must not hide it from the rest.
                _logger.exception("event handler %r failed for %s", handler, type(event).__name__)


bus = EventBus()
"""The process's bus."""


def subscribe(kind: type[E], handler: Callable[[E], None]) -> None:
    bus.subscribe(kind, handler)


def unsubscribe(kind: type[E], handler: Callable[[E], None]) -> None:
    bus.unsubscribe(kind, handler)


def publish(event: object) -> None:
    bus.publish(event)


def publish_after_commit(uow: UnitOfWork, event: object) -> None:
    """Publish ``event`` once ``uow`` commits; drop it if the transaction rolls back."""
    session = uow.session
    pending: list[object] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        if not session.info.get(_LISTENING):
            session.info[_LISTENING] = True
            sa_event.listen(session, "after_commit", _flush)
            sa_event.listen(session, "after_rollback", _drop)
    pending.append(event)


def _flush(session: Session) -> None:
    # SQLAlchemy also reports a released SAVEPOINT (ledger.account creates accounts in one) as
    # a commit; the outer transaction is still open then, and its events must wait for it.
    if session.in_nested_transaction():
        return
    for item in session.info.pop(_PENDING, None) or []:
        bus.publish(item)


def _drop(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back; the outer transaction goes on
        return
    session.info.pop(_PENDING, None)
