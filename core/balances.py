"""A member's balances as the ledger tells them.

This runs on every balance check, so it reads with a handful of column queries (no ORM
entity loading): account sums, the active loans' schedules, what was repaid on them, and
this cycle's contribution.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from core import contributions, loans
from core.tables import (
    DEBIT_NORMAL,
    Account,
    AccountKind,
    ContributionPlan,
    Installment,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanStatus,
)
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class NextInstallment:
    loan_reference: str
    due_date: date
    amount: int


@dataclass(frozen=True, slots=True)
class Balances:
    savings: int
    shares: int
    loan: int
    """Outstanding loan principal across active loans."""
    next_installment: NextInstallment | None
    contribution: contributions.CycleDue | None


def of_member(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> Balances:
    session = uow.session
    sums = session.exec(
        select(Account.kind, Account.loan_id, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .select_from(Account)
        .outerjoin(LedgerEntry, col(LedgerEntry.account_id) == Account.id)
        .where(Account.org_id == org_id, Account.member_id == member_id)
        .group_by(col(Account.id), col(Account.kind), col(Account.loan_id))
    ).all()
    by_kind: dict[AccountKind, int] = defaultdict(int)
    by_loan: dict[int, int] = {}
    for kind, loan_id, raw in sums:
        value = int(raw) if kind in DEBIT_NORMAL else -int(raw)
        by_kind[kind] += value
        if loan_id is not None:
            by_loan[loan_id] = value

    rows = session.exec(
        select(Loan.id, Loan.reference, Installment)
        .join(Installment, col(Installment.loan_id) == Loan.id)
        .where(Loan.org_id == org_id, Loan.member_id == member_id, Loan.status == LoanStatus.ACTIVE)
        .order_by(col(Loan.id), col(Installment.seq))
    ).all()
    schedules: dict[int, tuple[str, list[Installment]]] = {}
    for loan_id, reference, installment in rows:
        schedules.setdefault(loan_id, (reference, []))[1].append(installment)
    repaid = _repaid(uow, list(schedules))

    upcoming = []
    for loan_id, (reference, installments) in schedules.items():
        dues = loans.allocate(installments, repaid.get(loan_id, 0))
        if dues:
            upcoming.append(NextInstallment(reference, dues[0].installment.due_date, dues[0].amount))
    upcoming.sort(key=lambda n: n.due_date)
    return Balances(
        savings=by_kind[AccountKind.SAVINGS],
        shares=by_kind[AccountKind.SHARES],
        loan=sum(by_loan.get(loan_id, 0) for loan_id in schedules),
        next_installment=upcoming[0] if upcoming else None,
        contribution=_contribution(uow, org_id, member_id, today),
    )


def _repaid(uow: UnitOfWork, loan_ids: list[int]) -> dict[int, int]:
    """Repaid totals of several loans in one query (same rule as :func:`core.loans.repaid`)."""
    if not loan_ids:
        return {}
    subjects = {f"loan:{loan_id}": loan_id for loan_id in loan_ids}
    rows = uow.session.exec(
        select(LedgerTransaction.subject, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, col(LedgerEntry.transaction_id) == LedgerTransaction.id)
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(
            col(LedgerTransaction.subject).in_(list(subjects)),
            col(LedgerTransaction.kind).in_([loans.REPAYMENT, f"reversal:{loans.REPAYMENT}"]),
            col(Account.kind).in_([AccountKind.LOAN_PRINCIPAL, AccountKind.INTEREST_INCOME]),
        )
        .group_by(col(LedgerTransaction.subject))
    ).all()
    return {subjects[subject]: -int(raw) for subject, raw in rows if subject in subjects}


def _contribution(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> contributions.CycleDue | None:
    plan = uow.session.exec(
        select(ContributionPlan.amount, ContributionPlan.day_of_month).where(ContributionPlan.org_id == org_id)
    ).first()
    if plan is None:
        return None
    amount, day = plan
    cycle = contributions.cycle_of(today)
    due = contributions.due_date(ContributionPlan(org_id=org_id, amount=amount, day_of_month=day), cycle)
    return contributions.CycleDue(cycle, due, amount, contributions.paid_in_cycle(uow, member_id, cycle))
