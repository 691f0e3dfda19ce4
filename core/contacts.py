"""Who wrote to us, where and when: the WhatsApp 24-hour customer-service window.

WhatsApp allows free-form messages only within 24 hours of the user's last message to the
business; outside it only approved templates go through (error 131047 otherwise). Every inbound
WhatsApp and SMS message moves its contact's ``last_inbound_at`` forward (never back: a late,
redelivered message does not shorten the window).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select

from core.clock import as_utc
from core.tables import Contact
from core.uow import UnitOfWork

WINDOW = timedelta(hours=24)
WHATSAPP = "whatsapp"


def touch(
    uow: UnitOfWork,
    org_id: int,
    phone: str,
    channel: str,
    at: datetime,
    *,
    provider: str = "",
    binding: str = "",
) -> None:
    """Record an inbound message from ``phone`` on ``channel`` at ``at`` (one upsert; the caller commits)."""
    table: Any = Contact.__table__  # type: ignore[attr-defined]
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    values = {
        "org_id": org_id,
        "phone": phone,
        "channel": channel,
        "provider": provider[:20],
        "binding": binding[:64],
        "last_inbound_at": at,
        "created_at": at,
    }
    stmt = insert(table).values(**values)
    newer = stmt.excluded.last_inbound_at > table.c.last_inbound_at
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "phone", "channel"],
        set_={
            "last_inbound_at": case((newer, stmt.excluded.last_inbound_at), else_=table.c.last_inbound_at),
            "provider": case((newer, stmt.excluded.provider), else_=table.c.provider),
            "binding": case((newer, stmt.excluded.binding), else_=table.c.binding),
        },
    )
    uow.session.connection().execute(stmt)


def find(uow: UnitOfWork, org_id: int, phone: str, channel: str) -> Contact | None:
    return uow.session.exec(
        select(Contact).where(Contact.org_id == org_id, Contact.phone == phone, Contact.channel == channel)
    ).first()


def last_inbound(uow: UnitOfWork, org_id: int, phone: str, channel: str) -> datetime | None:
    """When ``phone`` last wrote to ``org_id`` on ``channel`` (UTC), or None if never."""
    contact = find(uow, org_id, phone, channel)
    if contact is None or contact.last_inbound_at is None:
        return None
    return as_utc(contact.last_inbound_at)


def window_open(last: datetime | None, now: datetime) -> bool:
    return last is not None and now - as_utc(last) < WINDOW


def whatsapp_window_open(uow: UnitOfWork, org_id: int, phone: str, now: datetime) -> bool:
    """True when free-form WhatsApp messages may be sent to ``phone`` now (it wrote in the last 24 hours)."""
    return window_open(last_inbound(uow, org_id, phone, WHATSAPP), now)
