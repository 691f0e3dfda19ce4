"""The back office's dashboard figures: people, money held and lent, today's trade, delivery health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from core import summaries
from core.sales_summary import local_bounds
from core.tables import (
    Account,
    AccountKind,
    Collection,
    CollectionStatus,
    LedgerEntry,
    Loan,
    LoanStatus,
    Member,
    Organisation,
    Payment,
    Reminder,
    Role,
    Sale,
    SaleStatus,
    WebhookDelivery,
)
from core.uow import UnitOfWork

HEALTH_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Rate:
    """Successes out of settled attempts; ``rate`` is None when nothing settled yet."""

    succeeded: int
    failed: int
    pending: int

    @property
    def rate(self) -> float | None:
        settled = self.succeeded + self.failed
        return round(self.succeeded / settled, 4) if settled else None


@dataclass(frozen=True, slots=True)
class Dashboard:
    today: date
    members: dict[str, int]
    savings: int
    shares: int
    loans_active: int
    loans_outstanding: int
    overdue_members: int
    overdue_amount: int
    cycle: str
    contributors: int
    contributions_total: int
    expected_contributors: int
    payments_today: dict[str, dict[str, int]]
    """By state: ``{"paid": {"count": 3, "amount": 150000}, ...}``."""
    sales_today: dict[str, int]
    collections_open: dict[str, int]
    webhooks: Rate
    reminders: Rate

    @property
    def contribution_rate(self) -> float | None:
        if not self.expected_contributors:
            return None
        return round(min(self.contributors / self.expected_contributors, 1.0), 4)


def _balance_of_kind(uow: UnitOfWork, org_id: int, kind: AccountKind) -> int:
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(Account.org_id == org_id, Account.kind == kind)
    ).one()
    return -int(raw)  # savings and shares are credit-normal: what the organisation holds for members


def _members(uow: UnitOfWork, org_id: int) -> dict[str, int]:
    rows = uow.session.exec(
        select(Member.role, Member.active, Member.opted_out, func.count())
        .where(Member.org_id == org_id)
        .group_by(col(Member.role), col(Member.active), col(Member.opted_out))
    ).all()
    counts = {"total": 0, "active": 0, "members": 0, "agents": 0, "officers": 0, "opted_out": 0}
    plural = {Role.MEMBER: "members", Role.AGENT: "agents", Role.OFFICER: "officers"}
    for role, active, opted_out, count in rows:
        counts["total"] += count
        counts["active"] += count if active else 0
        counts["opted_out"] += count if opted_out else 0
        counts[plural[Role(role)]] += count
    return counts


def _rate(rows: list[Any], good: set[str], bad: set[str]) -> Rate:
    tally = {"good": 0, "bad": 0, "other": 0}
    for state, count in rows:
        tally["good" if str(state) in good else "bad" if str(state) in bad else "other"] += int(count)
    return Rate(succeeded=tally["good"], failed=tally["bad"], pending=tally["other"])


def build(uow: UnitOfWork, org: Organisation, today: date, now: datetime) -> Dashboard:
    """Figures for ``org`` on local ``today``; delivery health over the last seven days."""
    assert org.id is not None
    weekly = summaries.weekly(uow, org, today)
    start, end = local_bounds(org, today, today)
    since = now - HEALTH_WINDOW
    payments: dict[str, dict[str, int]] = {}
    for state, count, amount in uow.session.exec(
        select(Payment.state, func.count(), func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.org_id == org.id, col(Payment.created_at) >= start, col(Payment.created_at) < end)
        .group_by(col(Payment.state))
    ).all():
        payments[str(state)] = {"count": int(count), "amount": int(amount)}
    sales_count, sales_total = uow.session.exec(
        select(func.count(), func.coalesce(func.sum(Sale.total), 0)).where(
            Sale.org_id == org.id,
            Sale.status == SaleStatus.COMPLETED,
            col(Sale.created_at) >= start,
            col(Sale.created_at) < end,
        )
    ).one()
    open_count, open_amount = uow.session.exec(
        select(func.count(), func.coalesce(func.sum(Collection.amount), 0)).where(
            Collection.org_id == org.id, Collection.status == CollectionStatus.OPEN
        )
    ).one()
    overdue_count = uow.session.exec(
        select(func.count()).where(
            Collection.org_id == org.id, Collection.status == CollectionStatus.OPEN, Collection.due_date < today
        )
    ).one()
    members = _members(uow, org.id)
    loans_active = uow.session.exec(
        select(func.count()).where(Loan.org_id == org.id, Loan.status == LoanStatus.ACTIVE)
    ).one()
    hooks = uow.session.exec(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.org_id == org.id, col(WebhookDelivery.created_at) >= since)
        .group_by(col(WebhookDelivery.status))
    ).all()
    reminders = uow.session.exec(
        select(Reminder.state, func.count())
        .where(Reminder.org_id == org.id, col(Reminder.created_at) >= since)
        .group_by(col(Reminder.state))
    ).all()
    active_members = uow.session.exec(
        select(func.count()).where(Member.org_id == org.id, Member.role == Role.MEMBER, col(Member.active).is_(True))
    ).one()
    return Dashboard(
        today=today,
        members=members,
        savings=_balance_of_kind(uow, org.id, AccountKind.SAVINGS),
        shares=_balance_of_kind(uow, org.id, AccountKind.SHARES),
        loans_active=int(loans_active),
        loans_outstanding=weekly.loans_outstanding,
        overdue_members=len(weekly.overdue),
        overdue_amount=weekly.overdue_total,
        cycle=weekly.cycle,
        contributors=weekly.contributions_count,
        contributions_total=weekly.contributions_total,
        expected_contributors=int(active_members),
        payments_today=payments,
        sales_today={"count": int(sales_count), "total": int(sales_total)},
        collections_open={"count": int(open_count), "amount": int(open_amount), "overdue": int(overdue_count)},
        webhooks=_rate(list(hooks), {"delivered"}, {"failed"}),
        reminders=_rate(list(reminders), {"sent", "delivered"}, {"failed", "dead"}),
    )
