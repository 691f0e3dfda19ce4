"""The reminder planner: what is due today, in each organisation's time zone, exactly once.

``plan`` may run any number of times a day, crash half-way, or run in two schedulers at once:
each reminder is inserted only if its key ``(rule, target kind, target id, due date,
occurrence)`` is new (``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike),
so a rerun plans only what a previous run missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from core import contributions, due_items, quiet_hours, reminder_rules
from core.due_items import DueItem
from core.tables import DeliveryState, Member, Organisation, Reminder, ReminderRule, Role, TargetKind
from core.uow import UnitOfWork

INSERT_CHUNK = 1000

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each chunk of a large run."""


@dataclass(slots=True)
class PlanResult:
    org_slug: str
    day: date
    candidates: int = 0
    inserted: int = 0
    skipped_opted_out: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    """The candidate rows (dry runs keep them for display; each has ``new``)."""


@dataclass(frozen=True, slots=True)
class _MemberInfo:
    name: str
    lang: str
    reachable: bool


def _members(uow: UnitOfWork, org: Organisation) -> dict[int, _MemberInfo]:
    rows = (
        uow.session.connection()
        .execute(
            sa_select(
                col(Member.id), col(Member.name), col(Member.language), col(Member.opted_out), col(Member.active)
            ).where(col(Member.org_id) == org.id)
        )
        .all()
    )
    return {
        member_id: _MemberInfo(name, language or org.default_language, bool(active) and not opted_out)
        for member_id, name, language, opted_out, active in rows
        if member_id is not None
    }


def _contribution_members(uow: UnitOfWork, org_id: int) -> list[int]:
    rows = uow.session.exec(
        select(Member.id).where(
            Member.org_id == org_id,
            col(Member.role).in_([Role.MEMBER, Role.OFFICER]),
            col(Member.active).is_(True),
        )
    ).all()
    return [member_id for member_id in rows if member_id is not None]


def due_items_for(uow: UnitOfWork, org: Organisation, kind: TargetKind, dates: Sequence[date]) -> list[DueItem]:
    assert org.id is not None
    if kind == TargetKind.LOAN_INSTALLMENT:
        return due_items.loan_items(uow, org.id, dates)
    if kind == TargetKind.CONTRIBUTION:
        plan = contributions.plan_of(uow, org.id)
        if plan is None:
            return []
        return due_items.contribution_items(uow, plan, _contribution_members(uow, org.id), dates)
    return due_items.collection_items(uow, org.id, dates)


def candidates(uow: UnitOfWork, org: Organisation, day: date, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """Every reminder that should exist for local ``day``, as insertable rows; and how many opted out."""
    assert org.id is not None
    rules = reminder_rules.active_rules(uow, org.id)
    by_kind: dict[TargetKind, list[tuple[ReminderRule, date, int]]] = defaultdict(list)
    for rule in rules:
        for due, occurrence in reminder_rules.firing_dates(rule, day):
            by_kind[TargetKind(rule.target)].append((rule, due, occurrence))
    if not by_kind:
        return [], 0
    people = _members(uow, org)
    send_after = quiet_hours.send_after(org, day, now)
    rows: list[dict[str, Any]] = []
    opted_out = 0
    for kind, firings in by_kind.items():
        items = due_items_for(uow, org, kind, sorted({due for _, due, _ in firings}))
        by_date: dict[date, list[DueItem]] = defaultdict(list)
        for item in items:
            by_date[item.due_date].append(item)
        for rule, due, occurrence in firings:
            for item in by_date.get(due, ()):
                person = people.get(item.member_id)
                if person is None:
                    continue
                if not person.reachable:
                    opted_out += 1
                    continue
                text = reminder_rules.render(
                    reminder_rules.template_of(rule, person.lang),
                    reminder_rules.values(
                        name=person.name,
                        amount=item.amount,
                        currency=org.currency,
                        due_date=item.due_date,
                        reference=item.reference,
                        org=org.name,
                    ),
                )
                rows.append(
                    {
                        "org_id": org.id,
                        "rule_id": rule.id,
                        "member_id": item.member_id,
                        "target_kind": kind,
                        "target_id": item.target_id,
                        "due_date": item.due_date,
                        "occurrence": occurrence,
                        "amount": item.amount,
                        "reference": item.reference[:40],
                        "lang": person.lang,
                        "body": text[:640],
                        "pay_now": rule.pay_now,
                        "state": DeliveryState.PLANNED,
                        "send_after": send_after,
                        "attempts": 0,
                        "created_at": now,
                    }
                )
    return rows, opted_out


def _insert_if_absent(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose unique key is new; return how many went in."""
    if not rows:
        return 0
    table = Reminder.__table__  # type: ignore[attr-defined]
    dialect_insert = postgresql.insert if uow.dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["rule_id", "target_kind", "target_id", "due_date", "occurrence"])
        .returning(table.c.id)
    )
    result = uow.session.connection().execute(statement, list(rows))
    return len(result.all())


def _existing_keys(uow: UnitOfWork, org_id: int, rows: Sequence[dict[str, Any]]) -> set[tuple[Any, ...]]:
    dates = sorted({row["due_date"] for row in rows})
    keys = set()
    for chunk in due_items.chunks(dates):
        for found in uow.session.connection().execute(
            sa_select(
                col(Reminder.rule_id),
                col(Reminder.target_kind),
                col(Reminder.target_id),
                col(Reminder.due_date),
                col(Reminder.occurrence),
            ).where(col(Reminder.org_id) == org_id, col(Reminder.due_date).in_(chunk))
        ):
            keys.add((found[0], str(found[1]), found[2], found[3], found[4]))
    return keys


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["rule_id"], str(row["target_kind"]), row["target_id"], row["due_date"], row["occurrence"])


def plan(
    uow: UnitOfWork,
    org: Organisation,
    day: date,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PlanResult:
    """Plan ``org``'s reminders for local ``day``; commits chunk by chunk unless ``dry_run``.

    Committing per chunk keeps transactions short; a crash between chunks loses nothing
    that a rerun will not plan again.
    """
    assert org.id is not None
    rows, opted_out = candidates(uow, org, day, now)
    result = PlanResult(org.slug, day, candidates=len(rows), skipped_opted_out=opted_out)
    if dry_run:
        existing = _existing_keys(uow, org.id, rows)
        for row in rows:
            row["new"] = _key(row) not in existing
        result.rows = rows
        result.inserted = sum(1 for row in rows if row["new"])
        if progress is not None:
            progress(len(rows), len(rows))
        uow.rollback()
        return result
    # Reruns are the common case (the cron runs hourly): skip what exists with one read, and let
    # ON CONFLICT settle any race with a concurrent run.
    existing = _existing_keys(uow, org.id, rows) if rows else set()
    rows = [row for row in rows if _key(row) not in existing]
    done = 0
    for chunk in due_items.chunks(rows, INSERT_CHUNK):
        result.inserted += _insert_if_absent(uow, chunk)
        uow.commit()
        done += len(chunk)
        if progress is not None:
            progress(done, len(rows))
    uow.rollback()  # end the read transaction of a run with nothing to insert
    return result


def plan_all(
    uow: UnitOfWork, now: datetime, *, org_slug: str | None = None, day: date | None = None
) -> list[PlanResult]:
    """Plan every organisation (or one), each for its own local today unless ``day`` is given."""
    query = select(Organisation).order_by(col(Organisation.id))
    if org_slug is not None:
        query = query.where(Organisation.slug == org_slug)
    results = []
    for org in list(uow.session.exec(query)):
        results.append(plan(uow, org, day or quiet_hours.local_today(org, now), now))
    return results
