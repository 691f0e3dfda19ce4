"""The officers' weekly summary: contributions this cycle, who is overdue, what is outstanding."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from core import contributions, due_items
from core.tables import (
    Account,
    AccountKind,
    Installment,
    LedgerEntry,
    Loan,
    LoanStatus,
    Member,
    Organisation,
)
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Overdue:
    member_id: int
    name: str
    member_no: str
    amount: int
    since: date


@dataclass(frozen=True, slots=True)
class Summary:
    cycle: str
    contributions_count: int
    contributions_total: int
    overdue: list[Overdue]
    overdue_total: int
    loans_outstanding: int
    """Outstanding loan principal across active loans."""


def _principal_outstanding(uow: UnitOfWork, org_id: int) -> int:
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .join(Loan, col(Loan.id) == Account.loan_id)
        .where(
            Account.org_id == org_id,
            Account.kind == AccountKind.LOAN_PRINCIPAL,
            Loan.status == LoanStatus.ACTIVE,
        )
    ).one()
    return int(raw)  # debit-normal: the sum is what members owe


def weekly(uow: UnitOfWork, org: Organisation, today: date) -> Summary:
    """Figures for ``org`` as of local ``today``; overdue = an unpaid installment due before today."""
    assert org.id is not None
    cycle = contributions.cycle_of(today)
    paid = due_items.paid_by_member(uow, cycle)
    active_loans = uow.session.exec(
        select(Loan.id, Loan.member_id).where(Loan.org_id == org.id, Loan.status == LoanStatus.ACTIVE)
    ).all()
    owner = {loan_id: member_id for loan_id, member_id in active_loans if loan_id is not None}
    unpaid = due_items.unpaid_installments(uow, list(owner))
    late: dict[int, tuple[int, date]] = defaultdict(lambda: (0, today))
    for chunk in due_items.chunks(sorted(unpaid)):
        for inst_id, loan_id, due in uow.session.exec(
            select(col(Installment.id), col(Installment.loan_id), col(Installment.due_date)).where(
                col(Installment.id).in_(chunk), col(Installment.due_date) < today
            )
        ).all():
            member_id = owner[loan_id]
            amount, since = late[member_id]
            late[member_id] = (amount + unpaid[inst_id or 0], min(since, due))
    people = {
        m.id: m
        for m in uow.session.exec(select(Member).where(col(Member.id).in_(list(late) or [-1])))
        if m.id is not None
    }
    overdue = sorted(
        (
            Overdue(mid, people[mid].name, people[mid].member_no, amount, since)
            for mid, (amount, since) in late.items()
            if mid in people
        ),
        key=lambda o: (-o.amount, o.name),
    )
    return Summary(
        cycle=cycle,
        contributions_count=len(paid),
        contributions_total=sum(paid.values()),
        overdue=overdue,
        overdue_total=sum(o.amount for o in overdue),
        loans_outstanding=_principal_outstanding(uow, org.id),
    )
