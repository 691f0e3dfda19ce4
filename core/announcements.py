"""Rows that announce themselves: a new sale becomes a ``sale.created`` webhook, whoever wrote it.

Sales are written by several flows (USSD, WhatsApp, SMS keywords); rather than each remembering
to announce them, the session notices new :class:`Sale` rows at flush and, just before the
transaction commits, adds their webhook deliveries to it. So the sale and its announcement
commit together, or neither does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlmodel import Session

from core import webhooks
from core.clock import as_utc
from core.tables import Sale
from core.uow import UnitOfWork

_NEW_SALES = "jumbe_new_sales"


class _Borrowed(UnitOfWork):
    """The session being committed, seen as a unit of work (never entered, never committed here)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def session(self) -> Session:
        assert self._session is not None
        return self._session


def sale_data(sale: Sale) -> dict[str, Any]:
    return {
        "id": sale.id,
        "reference": sale.reference,
        "agent_id": sale.agent_id,
        "total": sale.total,
        "commission": sale.commission,
        "payment_method": str(sale.payment_method),
        "customer_phone": sale.customer_phone,
        "status": str(sale.status),
        "created_at": sale.created_at,
    }


def _collect(session: Session, _context: Any) -> None:
    fresh = [obj for obj in session.new if isinstance(obj, Sale)]
    if not fresh:
        return
    root = session.get_transaction()
    held: tuple[Any, list[Sale]] | None = session.info.get(_NEW_SALES)
    if held is None or held[0] is not root:  # left over from a transaction that rolled back
        held = session.info[_NEW_SALES] = (root, [])
    held[1].extend(fresh)


def _announce(session: Session) -> None:
    # Releasing a savepoint fires before_commit too; announce with the outermost commit only.
    if session.in_nested_transaction():
        return
    held = session.info.pop(_NEW_SALES, None)
    if held is None or held[0] is not session.get_transaction():
        return
    uow = _Borrowed(session)
    for sale in held[1]:
        if sale.id is not None:
            at = as_utc(sale.created_at)
            webhooks.emit(uow, sale.org_id, "sale.created", sale_data(sale), at, event_id=f"evt_sale_{sale.id}")


def install() -> None:
    """Listen on every session (once per process; installing again changes nothing)."""
    listeners: tuple[tuple[str, Any], ...] = (("after_flush", _collect), ("before_commit", _announce))
    for name, listener in listeners:
        if not sa_event.contains(Session, name, listener):
            sa_event.listen(Session, name, listener)
