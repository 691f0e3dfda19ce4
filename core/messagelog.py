"""The message log: record every message in and out, apply delivery reports, list for support.

Statuses only move forward: :func:`apply_status` is one conditional ``UPDATE`` that compares
ranks in the database, so a late "sent" never downgrades "read", even when two workers apply
reports for the same message at once. The caller passes the rank (``channels.base.STATUS_RANK``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import case, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from core.errors import Invalid, NotFound
from core.tables import Direction, MessageLog, MessageStatus
from core.uow import UnitOfWork

MASK = "****"
CONTENT_LIMIT = 4096
MAX_PAGE = 200
_STATUS_TIME = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at"}


def record_inbound(
    uow: UnitOfWork,
    *,
    org_id: int,
    member_id: int | None,
    phone: str,
    channel: str,
    provider: str,
    provider_message_id: str,
    kind: str,
    at: datetime,
) -> MessageLog | None:
    """Record a message as received, or return None when that provider id was recorded before.

    The content is filled in by :func:`finish_inbound` once the engine says whether it answered
    a PIN prompt. A duplicate rolls the unit of work back; otherwise the caller commits.
    """
    row = MessageLog(
        org_id=org_id,
        member_id=member_id,
        phone=phone,
        channel=channel,
        provider=provider,
        direction=Direction.IN,
        kind=kind[:20],
        provider_message_id=provider_message_id[:128],
        status=MessageStatus.RECEIVED,
        created_at=at,
        updated_at=at,
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        uow.rollback()
        return None
    return row


def finish_inbound(uow: UnitOfWork, row_id: int, content: str, *, secret: bool, failed: bool, at: datetime) -> None:
    """Store the inbound content (masked when it answered a secret prompt) and its outcome."""
    row = uow.session.get(MessageLog, row_id)
    if row is None:
        raise NotFound("no such message", field="message_id")
    row.content = MASK if secret else content[:CONTENT_LIMIT]
    row.status = MessageStatus.FAILED if failed else MessageStatus.PROCESSED
    row.updated_at = at
    uow.session.add(row)


def record_outbound(
    uow: UnitOfWork,
    *,
    org_id: int,
    member_id: int | None,
    phone: str,
    channel: str,
    provider: str,
    kind: str,
    purpose: str,
    content: str,
    at: datetime,
    segments: int | None = None,
) -> MessageLog:
    """A message about to be sent, as ``queued``; the caller commits before calling the provider."""
    row = MessageLog(
        org_id=org_id,
        member_id=member_id,
        phone=phone,
        channel=channel,
        provider=provider,
        direction=Direction.OUT,
        kind=kind[:20],
        purpose=purpose[:10],
        status=MessageStatus.QUEUED,
        content=content[:CONTENT_LIMIT],
        segments=segments,
        created_at=at,
        updated_at=at,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def mark_sent(uow: UnitOfWork, row_id: int, provider_message_id: str, status: str, at: datetime) -> None:
    """The provider accepted the message: keep its id (reports refer to it)."""
    row = uow.session.get(MessageLog, row_id)
    if row is None:
        raise NotFound("no such message", field="message_id")
    row.provider_message_id = provider_message_id[:128]
    # A delivery report may have raced ahead of us; never move backwards from it.
    if row.status == MessageStatus.QUEUED:
        row.status = MessageStatus(status)
    row.sent_at = row.sent_at or at
    row.updated_at = at
    uow.session.add(row)


def mark_failed(uow: UnitOfWork, row_id: int, code: str, message: str, at: datetime) -> None:
    row = uow.session.get(MessageLog, row_id)
    if row is None:
        raise NotFound("no such message", field="message_id")
    row.status = MessageStatus.FAILED
    row.error_code = code[:40]
    row.error_message = message[:200]
    row.updated_at = at
    uow.session.add(row)


def apply_status(
    uow: UnitOfWork,
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    rank: Mapping[str, int],
    at: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
) -> MessageLog | None:
    """Move an outbound message to ``status`` if that is forward; return it when it moved.

    Unknown ids and backward moves change nothing (None). The caller commits.
    """
    if status not in rank:
        raise Invalid(f"unknown status {status!r}", field="status")
    current = case(dict(rank), value=MessageLog.status, else_=-1)
    values: dict[str, object] = {"status": status, "updated_at": at}
    if status == "failed":
        values["error_code"] = (error_code or "failed")[:40]
        values["error_message"] = (error_message or "")[:200] or None
    column = _STATUS_TIME.get(status)
    if column is not None:
        values[column] = func.coalesce(getattr(MessageLog, column), at)
    if status == "read":
        values["delivered_at"] = func.coalesce(MessageLog.delivered_at, at)
    result = uow.session.connection().execute(
        update(MessageLog)
        .where(
            col(MessageLog.provider) == provider,
            col(MessageLog.direction) == Direction.OUT,
            col(MessageLog.provider_message_id) == provider_message_id,
            current < rank[status],
        )
        .values(**values)
        .returning(col(MessageLog.id))
    )
    moved = result.scalar_one_or_none()
    if moved is None:
        return None
    row = uow.session.get(MessageLog, moved)
    if row is not None:
        uow.session.refresh(row)
    return row


def find_outbound(uow: UnitOfWork, provider: str, provider_message_id: str) -> MessageLog | None:
    return uow.session.exec(
        select(MessageLog).where(
            MessageLog.provider == provider,
            MessageLog.direction == Direction.OUT,
            MessageLog.provider_message_id == provider_message_id,
        )
    ).first()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MessageFilter:
    """Optional narrowing of :func:`list_messages`; every field set must match."""

    member_id: int | None = None
    phone: str | None = None
    channel: str | None = None
    direction: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class MessagePage:
    items: list[MessageLog]
    next_cursor: int | None
    """Pass back as ``cursor`` for the next (older) page; None on the last page."""


def list_messages(
    uow: UnitOfWork,
    org_id: int,
    cursor: int | None = None,
    limit: int = 50,
    filters: MessageFilter | None = None,
) -> MessagePage:
    """The organisation's messages, newest first; ``cursor`` is the last id of the previous page.

    Raises:
        Invalid: ``limit`` outside 1..200, or an unknown ``direction`` / ``status``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    query = select(MessageLog).where(MessageLog.org_id == org_id)
    if cursor is not None:
        query = query.where(col(MessageLog.id) < cursor)
    f = filters or MessageFilter()
    if f.direction is not None and f.direction not in {d.value for d in Direction}:
        raise Invalid("direction is in or out", field="direction")
    if f.status is not None and f.status not in {s.value for s in MessageStatus}:
        raise Invalid("unknown status", field="status")
    if f.member_id is not None:
        query = query.where(MessageLog.member_id == f.member_id)
    if f.phone is not None:
        query = query.where(MessageLog.phone == f.phone)
    if f.channel is not None:
        query = query.where(MessageLog.channel == f.channel)
    if f.direction is not None:
        query = query.where(MessageLog.direction == f.direction)
    if f.status is not None:
        query = query.where(MessageLog.status == f.status)
    if f.since is not None:
        query = query.where(col(MessageLog.created_at) >= f.since)
    if f.until is not None:
        query = query.where(col(MessageLog.created_at) < f.until)
    rows = list(uow.session.exec(query.order_by(col(MessageLog.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    items = rows[:limit]
    return MessagePage(items, items[-1].id if more and items else None)


def get_message(uow: UnitOfWork, org_id: int, message_id: int) -> MessageLog:
    row = uow.session.get(MessageLog, message_id)
    if row is None or row.org_id != org_id:
        raise NotFound("no such message", field="message_id")
    return row
