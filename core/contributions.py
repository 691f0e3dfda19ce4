"""Regular contributions: what is due this cycle, and posting one."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from core import ledger
from core.tables import AccountKind, ContributionPlan, LedgerEntry, LedgerTransaction, Organisation
from core.uow import UnitOfWork

CONTRIBUTION = "contribution"


def cycle_of(day: date) -> str:
    """Cycles are calendar months: ``"2026-11"``."""
    return f"{day.year:04d}-{day.month:02d}"


def due_date(plan: ContributionPlan, cycle: str) -> date:
    return due_on(plan.day_of_month, cycle)


def due_on(day_of_month: int, cycle: str) -> date:
    """The cycle's due date: ``day_of_month``, or the month's last day in short months."""
    year, month = (int(part) for part in cycle.split("-"))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day_of_month, last))


def plan_of(uow: UnitOfWork, org_id: int) -> ContributionPlan | None:
    return uow.session.exec(select(ContributionPlan).where(ContributionPlan.org_id == org_id)).first()


def subject(member_id: int, cycle: str) -> str:
    return f"contribution:{member_id}:{cycle}"


@dataclass(frozen=True, slots=True)
class CycleDue:
    cycle: str
    due_date: date
    amount_due: int
    paid: int

    @property
    def remaining(self) -> int:
        return max(self.amount_due - self.paid, 0)


def paid_in_cycle(uow: UnitOfWork, member_id: int, cycle: str) -> int:
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .where(LedgerTransaction.subject == subject(member_id, cycle), LedgerEntry.amount > 0)
    ).one()
    return int(raw)


def current_due(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> CycleDue | None:
    plan = plan_of(uow, org_id)
    if plan is None:
        return None
    cycle = cycle_of(today)
    return CycleDue(cycle, due_date(plan, cycle), plan.amount, paid_in_cycle(uow, member_id, cycle))


def post_contribution(
    uow: UnitOfWork,
    org: Organisation,
    member_id: int,
    amount: int,
    *,
    cycle: str,
    source: AccountKind,
    memo: str,
    reference: str,
) -> LedgerTransaction:
    """Debit ``source`` and credit the member's savings; the caller commits."""
    assert org.id is not None
    plan = plan_of(uow, org.id)
    kind = AccountKind(plan.account_kind) if plan else AccountKind.SAVINGS
    lines = [
        (ledger.account(uow, org.id, source), amount),
        (ledger.account(uow, org.id, kind, member_id), -amount),
    ]
    return ledger.post(
        uow, org.id, CONTRIBUTION, lines, memo=memo, subject=subject(member_id, cycle), reference=reference
    )
