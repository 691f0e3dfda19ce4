"""What members owe and when, in bulk for the planner and one at a time for delivery.

Three kinds of due item: loan installments (unpaid parts, read from the ledger exactly as
:func:`core.loans.outstanding` does), this cycle's contribution, and agents' open collections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from core import contributions, loans
from core.tables import (
    Account,
    AccountKind,
    Collection,
    CollectionStatus,
    ContributionPlan,
    Installment,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanStatus,
    TargetKind,
)
from core.uow import UnitOfWork

CHUNK = 900
"""Ids per ``IN (...)``: below SQLite's default bound-parameter limit."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: TargetKind
    target_id: str
    member_id: int
    due_date: date
    amount: int
    """What is still unpaid, minor units."""
    reference: str


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _repaid_by_loan(uow: UnitOfWork, loan_ids: Sequence[int]) -> dict[int, int]:
    subjects = [f"{loans.SUBJECT_PREFIX}{loan_id}" for loan_id in loan_ids]
    rows = uow.session.exec(
        select(LedgerTransaction.subject, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, col(LedgerEntry.transaction_id) == LedgerTransaction.id)
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(
            col(LedgerTransaction.subject).in_(subjects),
            col(LedgerTransaction.kind).in_([loans.REPAYMENT, f"reversal:{loans.REPAYMENT}"]),
            col(Account.kind).in_([AccountKind.LOAN_PRINCIPAL, AccountKind.INTEREST_INCOME]),
        )
        .group_by(col(LedgerTransaction.subject))
    ).all()
    return {int(str(subject).split(":")[1]): -int(total) for subject, total in rows}


def unpaid_installments(uow: UnitOfWork, loan_ids: Sequence[int]) -> dict[int, int]:
    """``{installment_id: unpaid amount}`` for every installment of ``loan_ids`` with something unpaid.

    The settlement of :func:`core.loans.outstanding` (``loans.allocate``), with two queries per
    chunk of loans instead of two per loan.
    """
    unpaid: dict[int, int] = {}
    for chunk in chunks(sorted(set(loan_ids))):
        repaid = _repaid_by_loan(uow, chunk)
        schedules: dict[int, list[tuple[int, loans.Scheduled]]] = defaultdict(list)
        # Plain column tuples: building ORM objects would cost more than the whole allocation.
        for inst_id, loan_id, seq, due_on, principal, interest in uow.session.connection().execute(
            sa_select(
                col(Installment.id),
                col(Installment.loan_id),
                col(Installment.seq),
                col(Installment.due_date),
                col(Installment.principal_due),
                col(Installment.interest_due),
            )
            .where(col(Installment.loan_id).in_(chunk))
            .order_by(col(Installment.loan_id), col(Installment.seq))
        ):
            schedules[loan_id].append((inst_id or 0, loans.Scheduled(seq, due_on, principal, interest)))
        for loan_id, schedule in schedules.items():
            paid = repaid.get(loan_id, 0)
            if paid == 0:  # the common case needs no allocation
                unpaid.update(
                    (i, s.principal_due + s.interest_due) for i, s in schedule if s.principal_due + s.interest_due
                )
                continue
            by_seq = {s.seq: i for i, s in schedule}
            for due in loans.allocate([s for _, s in schedule], paid):
                unpaid[by_seq[due.installment.seq]] = due.amount
    return unpaid


def loan_items(uow: UnitOfWork, org_id: int, dates: Iterable[date]) -> list[DueItem]:
    """Unpaid installments of active loans falling due on any of ``dates``."""
    rows = (
        uow.session.connection()
        .execute(
            sa_select(
                col(Installment.id),
                col(Installment.loan_id),
                col(Installment.due_date),
                col(Loan.member_id),
                col(Loan.reference),
            )
            .join(Loan, col(Loan.id) == Installment.loan_id)
            .where(
                col(Loan.org_id) == org_id,
                col(Loan.status) == LoanStatus.ACTIVE,
                col(Installment.due_date).in_(sorted(set(dates))),
            )
        )
        .all()
    )
    unpaid = unpaid_installments(uow, [loan_id for _, loan_id, _, _, _ in rows])
    return [
        DueItem(TargetKind.LOAN_INSTALLMENT, str(inst_id), member_id, due, unpaid[inst_id], reference)
        for inst_id, _, due, member_id, reference in rows
        if inst_id is not None and unpaid.get(inst_id, 0) > 0
    ]


def contribution_subject_member(subject: str) -> int:
    return int(subject.split(":")[1])


def paid_by_member(uow: UnitOfWork, cycle: str) -> dict[int, int]:
    """What each member has contributed in ``cycle`` (as :func:`core.contributions.paid_in_cycle`)."""
    rows = uow.session.exec(
        select(LedgerTransaction.subject, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, col(LedgerEntry.transaction_id) == LedgerTransaction.id)
        .where(col(LedgerTransaction.subject).like(f"contribution:%:{cycle}"), LedgerEntry.amount > 0)
        .group_by(col(LedgerTransaction.subject))
    ).all()
    return {contribution_subject_member(str(subject)): int(total) for subject, total in rows}


def contribution_items(
    uow: UnitOfWork, plan: ContributionPlan, member_ids: Sequence[int], dates: Iterable[date]
) -> list[DueItem]:
    """This cycle's unpaid contribution of each of ``member_ids``, for cycles due on one of ``dates``."""
    items: list[DueItem] = []
    for day in sorted(set(dates)):
        cycle = contributions.cycle_of(day)
        if contributions.due_date(plan, cycle) != day:
            continue
        paid = paid_by_member(uow, cycle)
        for member_id in member_ids:
            rest = plan.amount - paid.get(member_id, 0)
            if rest > 0:
                items.append(DueItem(TargetKind.CONTRIBUTION, f"{member_id}:{cycle}", member_id, day, rest, cycle))
    return items


def collection_items(uow: UnitOfWork, org_id: int, dates: Iterable[date]) -> list[DueItem]:
    rows = uow.session.exec(
        select(Collection).where(
            Collection.org_id == org_id,
            Collection.status == CollectionStatus.OPEN,
            col(Collection.due_date).in_(sorted(set(dates))),
        )
    ).all()
    return [
        DueItem(TargetKind.COLLECTION, str(c.id), c.agent_id, c.due_date, c.amount, c.reference)
        for c in rows
        if c.amount > 0
    ]


def still_due(uow: UnitOfWork, org_id: int, kind: TargetKind | str, target_id: str) -> int:
    """What is unpaid of one due item right now (0 once paid, closed or gone)."""
    if kind == TargetKind.LOAN_INSTALLMENT:
        inst = uow.session.get(Installment, int(target_id))
        loan = uow.session.get(Loan, inst.loan_id) if inst is not None else None
        if inst is None or loan is None or loan.org_id != org_id or loan.status != LoanStatus.ACTIVE:
            return 0
        return next((d.amount for d in loans.outstanding(uow, loan) if d.installment.seq == inst.seq), 0)
    if kind == TargetKind.CONTRIBUTION:
        member_part, _, cycle = target_id.partition(":")
        plan = contributions.plan_of(uow, org_id)
        if plan is None:
            return 0
        return max(plan.amount - contributions.paid_in_cycle(uow, int(member_part), cycle), 0)
    if kind == TargetKind.COLLECTION:
        found = uow.session.get(Collection, int(target_id))
        if found is None or found.org_id != org_id or found.status != CollectionStatus.OPEN:
            return 0
        return found.amount
    return 0
