"""The delivery lifecycle of reminders and broadcast messages, shared by both tables.

planned -> queued (claimed by one dispatcher, atomically) -> sending (committed before the
provider is called) -> sent -> delivered; or back to planned with a later ``send_after`` on a
transient error, dead after the last attempt, failed when every channel refused, skipped or
cancelled when there is nothing to send any more.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, update
from sqlmodel import col, select

from core import quiet_hours, webhooks
from core.tables import BroadcastMessage, DeliveryState, Organisation, Reminder
from core.uow import UnitOfWork

Kind = Literal["reminder", "broadcast"]
Row = Reminder | BroadcastMessage
MODELS: dict[str, type[Reminder] | type[BroadcastMessage]] = {"reminder": Reminder, "broadcast": BroadcastMessage}
OPEN = (DeliveryState.PLANNED, DeliveryState.QUEUED)


def model(kind: str) -> type[Reminder] | type[BroadcastMessage]:
    try:
        return MODELS[kind]
    except KeyError:
        raise ValueError(f"unknown outbound kind {kind!r}") from None


def _chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    """Bounded ``IN (...)`` lists (SQLite's and PostgreSQL's parameter limits)."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _table(kind: str) -> Any:
    return model(kind).__table__  # type: ignore[union-attr]


def due(uow: UnitOfWork, kind: str, now: datetime, limit: int) -> list[Any]:
    """Planned rows whose time has come, oldest first: ``(id, org_id, member_id, ...)`` tuples."""
    table = model(kind)
    extra: tuple[Any, ...] = (Reminder.target_kind, Reminder.target_id, Reminder.due_date) if table is Reminder else ()
    return list(
        uow.session.exec(
            select(col(table.id), col(table.org_id), col(table.member_id), *extra)
            .where(table.state == DeliveryState.PLANNED, col(table.send_after) <= now)
            .order_by(col(table.send_after), col(table.id))
            .limit(limit)
        ).all()
    )


_PRIORITY = {"loan_installment": 0, "collection": 1, "contribution": 2}


def within_limits(uow: UnitOfWork, rows: Sequence[Any], per_member_per_day: int, now: datetime) -> list[int]:
    """Per-recipient pacing over :func:`due` reminder rows; returns the ids that may go now.

    One reminder per due item (older occurrences are skipped as superseded) and at most
    ``per_member_per_day`` per member and local day, the most urgent first (loans, collections,
    contributions; oldest due date first); the rest are skipped. The caller commits.
    """
    newest: dict[tuple[str, str], Any] = {}
    superseded: list[int] = []
    for row in rows:
        key = (str(row[3]), str(row[4]))
        if key in newest:
            superseded.append(min(newest[key], row, key=lambda r: r[0])[0])
            newest[key] = max(newest[key], row, key=lambda r: r[0])
        else:
            newest[key] = row
    by_member: dict[int, list[Any]] = defaultdict(list)
    for row in newest.values():
        by_member[row[2]].append(row)
    sent_today = _sent_today(uow, {row[1] for row in rows}, list(by_member), now)
    chosen: list[int] = []
    over: list[int] = []
    for member_id, candidates in by_member.items():
        room = max(per_member_per_day - sent_today.get(member_id, 0), 0)
        candidates.sort(key=lambda r: (_PRIORITY.get(str(r[3]), 9), r[5], -r[0]))
        chosen.extend(r[0] for r in candidates[:room])
        over.extend(r[0] for r in candidates[room:])
    set_state(uow, "reminder", superseded, DeliveryState.SKIPPED, "superseded")
    set_state(uow, "reminder", over, DeliveryState.SKIPPED, "daily limit")
    return sorted(chosen)


def _sent_today(uow: UnitOfWork, org_ids: set[int], member_ids: list[int], now: datetime) -> Counter[int]:
    counts: Counter[int] = Counter()
    for org in uow.session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids))):
        since = quiet_hours.start_of_day(org, quiet_hours.local_today(org, now))
        for chunk in _chunks(member_ids):
            for member_id, number in uow.session.exec(
                select(Reminder.member_id, func.count())
                .where(Reminder.org_id == org.id, col(Reminder.member_id).in_(chunk), col(Reminder.sent_at) >= since)
                .group_by(col(Reminder.member_id))
            ).all():
                counts[member_id] += int(number)
    return counts


def claim(uow: UnitOfWork, kind: str, ids: Sequence[int]) -> list[int]:
    """Move ``ids`` from planned to queued; returns only the ids this caller won.

    One ``UPDATE ... WHERE state = 'planned' RETURNING id``: when two dispatchers race, the
    database hands each row to exactly one of them.
    """
    table = _table(kind)
    won: list[int] = []
    for chunk in _chunks(ids):
        result = uow.session.connection().execute(
            update(table)
            .where(table.c.id.in_(list(chunk)), table.c.state == DeliveryState.PLANNED)
            .values(state=DeliveryState.QUEUED)
            .returning(table.c.id)
        )
        won.extend(int(row[0]) for row in result)
    return sorted(won)


def set_state(uow: UnitOfWork, kind: str, ids: Sequence[int], state: DeliveryState, error: str | None) -> int:
    """Bulk move open rows to a final state (skipped, cancelled); returns how many moved."""
    table = _table(kind)
    moved = 0
    for chunk in _chunks(ids):
        result = uow.session.connection().execute(
            update(table)
            .where(table.c.id.in_(list(chunk)), table.c.state.in_(list(OPEN)))
            .values(state=state, error=error)
        )
        moved += int(result.rowcount)
    return moved


def start_sending(uow: UnitOfWork, kind: str, row_id: int) -> Row | None:
    """Take a queued row for sending (attempts + 1); None if another job has it or it is done."""
    table = _table(kind)
    result = uow.session.connection().execute(
        update(table)
        .where(table.c.id == row_id, table.c.state == DeliveryState.QUEUED)
        .values(state=DeliveryState.SENDING, attempts=table.c.attempts + 1)
    )
    if result.rowcount != 1:
        return None
    row: Any = uow.session.get(model(kind), row_id)
    if row is not None:
        uow.session.refresh(row)
    return row if isinstance(row, Reminder | BroadcastMessage) else None


def finish(row: Row, state: DeliveryState, *, channel: str | None = None, error: str | None = None) -> None:
    row.state = state
    if channel is not None:
        row.channel = channel
    row.error = error[:200] if error else None


def announce_failure(uow: UnitOfWork, row: Row, now: datetime) -> None:
    """A reminder that failed for good is a ``reminder.failed`` webhook (once per reminder)."""
    if not isinstance(row, Reminder) or row.state not in (DeliveryState.FAILED, DeliveryState.DEAD):
        return
    data = {
        "reminder_id": row.id,
        "member_id": row.member_id,
        "target_kind": str(row.target_kind),
        "target_id": str(row.target_id),
        "due_date": str(row.due_date),
        "state": str(row.state),
        "channel": row.channel,
        "error": row.error,
    }
    webhooks.emit(uow, row.org_id, "reminder.failed", data, now, event_id=f"reminder.failed:{row.id}")


def mark_sent(row: Row, channel: str, provider_message_id: str, now: datetime) -> None:
    row.state = DeliveryState.SENT
    row.channel = channel
    row.provider_message_id = provider_message_id[:128]
    row.sent_at = now
    row.error = None


def retry_later(row: Row, send_after: datetime, error: str) -> None:
    row.state = DeliveryState.PLANNED
    row.send_after = send_after
    row.error = error[:200]


def by_provider_id(uow: UnitOfWork, provider_message_id: str) -> tuple[str, Row] | None:
    reminder = uow.session.exec(select(Reminder).where(Reminder.provider_message_id == provider_message_id)).first()
    if reminder is not None:
        return "reminder", reminder
    message = uow.session.exec(
        select(BroadcastMessage).where(BroadcastMessage.provider_message_id == provider_message_id)
    ).first()
    return ("broadcast", message) if message is not None else None


def on_status(uow: UnitOfWork, provider_message_id: str, status: str, error_code: str | None) -> tuple[str, Row] | None:
    """Apply a provider's delivery report; statuses only move forward. The caller commits.

    Returns the row when it changed. A WhatsApp ``failed`` is not applied here: see
    :func:`whatsapp_failed`, which hands the message to SMS instead.
    """
    found = by_provider_id(uow, provider_message_id)
    if found is None:
        return None
    kind, row = found
    if status in ("delivered", "read") and row.state == DeliveryState.SENT:
        row.state = DeliveryState.DELIVERED
        return kind, row
    if status == "failed" and row.state in (DeliveryState.SENT, DeliveryState.DELIVERED):
        finish(row, DeliveryState.FAILED, error=f"{row.channel}:{error_code or 'failed'}")
        return kind, row
    return None


def whatsapp_failed(uow: UnitOfWork, provider_message_id: str, code: str) -> tuple[str, int] | None:
    """A WhatsApp message we sent failed later (131047 window closed, 131026 undeliverable...).

    The row goes back to ``queued`` with ``channel = "whatsapp"`` kept, which tells the router
    to use SMS this time. Returns ``(kind, id)`` for the caller to enqueue, or None if the row
    is unknown, not a WhatsApp send, or already past that point. The caller commits.
    """
    found = by_provider_id(uow, provider_message_id)
    if found is None:
        return None
    kind, row = found
    if row.channel != "whatsapp" or row.state not in (DeliveryState.SENT, DeliveryState.DELIVERED):
        return None
    row.state = DeliveryState.QUEUED
    row.error = f"whatsapp:{code}"[:200]
    assert row.id is not None
    return kind, row.id


def stuck_sending(uow: UnitOfWork, kind: str, before: datetime) -> list[int]:
    """Rows left in ``sending`` by a crashed job (their outcome is unknown; never resent blindly)."""
    table = model(kind)
    found = uow.session.exec(
        select(col(table.id)).where(table.state == DeliveryState.SENDING, col(table.send_after) < before)
    )
    return [int(i) for i in found if i is not None]
