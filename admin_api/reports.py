"""The dashboard summary and CSV exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlmodel import col, select

from admin_api.operations import Call, Raw, op
from admin_api.schemas import Money, Query
from core import dashboard
from core.clock import as_utc
from core.tables import Member, Role

TAG = "reports"
CSV = "text/csv"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class MemberCounts(BaseModel):
    total: int
    active: int
    members: int
    agents: int
    officers: int
    opted_out: int


class BalancesSummary(BaseModel):
    savings: Money
    shares: Money
    loans_outstanding: Money


class LoansSummary(BaseModel):
    active: int
    overdue_members: int
    overdue_amount: Money


class ContributionsSummary(BaseModel):
    cycle: str
    contributors: int
    expected_contributors: int
    total: Money
    rate: float | None


class Tally(BaseModel):
    count: int
    amount: Money


class CollectionsSummary(BaseModel):
    open: int
    open_amount: Money
    overdue: int


class RateOut(BaseModel):
    succeeded: int
    failed: int
    pending: int
    rate: float | None


class DeliveryHealth(BaseModel):
    webhooks: RateOut
    reminders: RateOut


class DashboardOut(BaseModel):
    today: date
    currency: str
    members: MemberCounts
    balances: BalancesSummary
    loans: LoansSummary
    contributions: ContributionsSummary
    payments_today: dict[str, Tally]
    sales_today: Tally
    collections: CollectionsSummary
    deliveries_last_7_days: DeliveryHealth


class MemberExportQuery(Query):
    role: Role | None = None
    active: bool | None = None


def _rate(rate: dashboard.Rate) -> RateOut:
    return RateOut(succeeded=rate.succeeded, failed=rate.failed, pending=rate.pending, rate=rate.rate)


@op(
    "GET",
    "/dashboard",
    "reports.dashboard",
    "Members, balances, today's payments and sales, delivery health",
    tag=TAG,
    scope="reports:read",
    response=DashboardOut,
)
def get_dashboard(call: Call) -> DashboardOut:
    d = dashboard.build(call.uow, call.org, call.today(), call.now())
    return DashboardOut(
        today=d.today,
        currency=call.org.currency,
        members=MemberCounts(**d.members),
        balances=BalancesSummary(
            savings=call.money(d.savings),
            shares=call.money(d.shares),
            loans_outstanding=call.money(d.loans_outstanding),
        ),
        loans=LoansSummary(
            active=d.loans_active, overdue_members=d.overdue_members, overdue_amount=call.money(d.overdue_amount)
        ),
        contributions=ContributionsSummary(
            cycle=d.cycle,
            contributors=d.contributors,
            expected_contributors=d.expected_contributors,
            total=call.money(d.contributions_total),
            rate=d.contribution_rate,
        ),
        payments_today={
            state: Tally(count=t["count"], amount=call.money(t["amount"])) for state, t in d.payments_today.items()
        },
        sales_today=Tally(count=d.sales_today["count"], amount=call.money(d.sales_today["total"])),
        collections=CollectionsSummary(
            open=d.collections_open["count"],
            open_amount=call.money(d.collections_open["amount"]),
            overdue=d.collections_open["overdue"],
        ),
        deliveries_last_7_days=DeliveryHealth(webhooks=_rate(d.webhooks), reminders=_rate(d.reminders)),
    )


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, raw_columns: Sequence[str] = ()) -> str:
    """CSV text; columns in ``raw_columns`` (phones, signed amounts) are written as they are."""
    keep = {header.index(name) for name in raw_columns}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else str(v) if i in keep else safe_cell(v) for i, v in enumerate(row)])
    return out.getvalue()


MEMBER_COLUMNS = (
    "id",
    "member_no",
    "name",
    "phone",
    "role",
    "language",
    "preferred_channel",
    "active",
    "opted_out",
    "created_at",
)


@op(
    "GET",
    "/exports/members.csv",
    "exports.members",
    "All members as CSV (the import format, plus more)",
    tag=TAG,
    scope="members:read",
    query=MemberExportQuery,
    media_type=CSV,
)
def export_members(call: Call) -> Raw:
    q: MemberExportQuery = call.query
    query = select(Member).where(Member.org_id == call.org_id).order_by(col(Member.id))
    if q.role is not None:
        query = query.where(Member.role == q.role)
    if q.active is not None:
        query = query.where(col(Member.active).is_(q.active))
    rows = (
        (
            m.id,
            m.member_no,
            m.name,
            m.phone,
            str(m.role),
            m.language,
            m.preferred_channel,
            str(m.active).lower(),
            str(m.opted_out).lower(),
            as_utc(m.created_at),
        )
        for m in call.uow.session.exec(query)
    )
    body = to_csv(MEMBER_COLUMNS, rows, raw_columns=("phone",))
    return Raw(body, CSV + "; charset=utf-8", filename=f"{call.org.slug}-members.csv")


operations = [get_dashboard, export_members]
