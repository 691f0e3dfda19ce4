"""What an agent sees of their own trade: today's sales, this month's commission, the last sales.

Days and months are the organisation's local ones. Only completed sales count towards totals
and commission; pending, failed and voided sales are listed but earn nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from core.tables import Organisation, PaymentMethod, Sale, SaleStatus
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class MethodTotal:
    count: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: date
    count: int
    total: int
    by_method: dict[PaymentMethod, MethodTotal] = field(default_factory=dict)
    pending: int = 0
    """M-Pesa sales of the day still waiting for the customer to pay."""


def local_bounds(org: Organisation, first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of ``first`` to the start of the day after ``last``, local time."""
    zone = ZoneInfo(org.timezone)
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def day_summary(uow: UnitOfWork, org: Organisation, agent_id: int, day: date) -> DaySummary:
    start, end = local_bounds(org, day, day)
    rows = uow.session.exec(
        select(Sale.payment_method, Sale.status, func.count(), func.coalesce(func.sum(Sale.total), 0))
        .where(
            Sale.org_id == org.id,
            Sale.agent_id == agent_id,
            col(Sale.created_at) >= start,
            col(Sale.created_at) < end,
        )
        .group_by(col(Sale.payment_method), col(Sale.status))
    ).all()
    by_method: dict[PaymentMethod, MethodTotal] = {}
    pending = 0
    for method, status, count, total in rows:
        if status == SaleStatus.PENDING_PAYMENT:
            pending += int(count)
        if status != SaleStatus.COMPLETED:
            continue
        key = PaymentMethod(method)
        before = by_method.get(key, MethodTotal())
        by_method[key] = MethodTotal(before.count + int(count), before.total + int(total))
    return DaySummary(
        day=day,
        count=sum(m.count for m in by_method.values()),
        total=sum(m.total for m in by_method.values()),
        by_method=by_method,
        pending=pending,
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def commission_between(uow: UnitOfWork, org: Organisation, agent_id: int, first: date, last: date) -> int:
    """Commission on the agent's completed sales made from ``first`` to ``last`` (local days)."""
    start, end = local_bounds(org, first, last)
    raw = uow.session.exec(
        select(func.coalesce(func.sum(Sale.commission), 0)).where(
            Sale.org_id == org.id,
            Sale.agent_id == agent_id,
            Sale.status == SaleStatus.COMPLETED,
            col(Sale.created_at) >= start,
            col(Sale.created_at) < end,
        )
    ).one()
    return int(raw)


def recent_sales(uow: UnitOfWork, org_id: int, agent_id: int, limit: int = 5) -> list[Sale]:
    query = (
        select(Sale)
        .where(Sale.org_id == org_id, Sale.agent_id == agent_id)
        .order_by(col(Sale.created_at).desc(), col(Sale.id).desc())
        .limit(limit)
    )
    return list(uow.session.exec(query))
