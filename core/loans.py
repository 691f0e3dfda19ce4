"""Loans: disbursement, what is due next, and how repayments split into interest and principal.

What a member has repaid is read from the ledger (transactions with subject ``loan:<id>``),
never kept as a counter; installments are settled oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import col, select

from core import ledger
from core.errors import Invalid
from core.tables import (
    Account,
    AccountKind,
    Installment,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanStatus,
    Organisation,
)
from core.uow import UnitOfWork

REPAYMENT = "loan_repayment"


SUBJECT_PREFIX = "loan:"
"""Ledger transactions about a loan carry ``subject = "loan:<id>"``."""


def subject(loan: Loan) -> str:
    return f"{SUBJECT_PREFIX}{loan.id}"


def disburse(
    uow: UnitOfWork,
    org: Organisation,
    member_id: int,
    *,
    reference: str,
    principal: int,
    interest: int,
    schedule: list[tuple[date, int, int]],
    disbursed_on: date,
) -> Loan:
    """Create a loan with its installments and post principal out of cash to the member's loan account.

    ``schedule`` is ``[(due_date, principal_due, interest_due), ...]`` and must add up.
    """
    if principal <= 0 or interest < 0:
        raise Invalid("principal must be positive and interest not negative", field="principal")
    if sum(p for _, p, _ in schedule) != principal or sum(i for _, _, i in schedule) != interest:
        raise Invalid("the schedule must add up to principal and interest", field="schedule")
    assert org.id is not None
    loan = Loan(
        org_id=org.id,
        member_id=member_id,
        reference=reference,
        principal=principal,
        interest=interest,
        disbursed_on=disbursed_on,
    )
    uow.session.add(loan)
    uow.session.flush()
    assert loan.id is not None
    for seq, (due, p, i) in enumerate(sorted(schedule), start=1):
        uow.session.add(Installment(loan_id=loan.id, seq=seq, due_date=due, principal_due=p, interest_due=i))
    loan_account = ledger.account(uow, org.id, AccountKind.LOAN_PRINCIPAL, member_id, loan.id)
    cash = ledger.account(uow, org.id, AccountKind.CASH)
    ledger.post(
        uow,
        org.id,
        "loan_disbursement",
        [(loan_account, principal), (cash, -principal)],
        memo=f"Loan {reference} disbursed",
        subject=subject(loan),
        reference=reference,
    )
    return loan


def repaid(uow: UnitOfWork, loan: Loan) -> int:
    """Everything repaid on the loan so far (principal and interest), read from the ledger."""
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(
            LedgerTransaction.subject == subject(loan),
            col(LedgerTransaction.kind).in_([REPAYMENT, f"reversal:{REPAYMENT}"]),
            col(Account.kind).in_([AccountKind.LOAN_PRINCIPAL, AccountKind.INTEREST_INCOME]),
        )
    ).one()
    return -int(raw)


class Scheduled(NamedTuple):
    """The parts of an installment that allocation needs (a row or a lighter read of one)."""

    seq: int
    due_date: date
    principal_due: int
    interest_due: int


@dataclass(frozen=True, slots=True)
class Due:
    installment: Installment | Scheduled
    principal: int
    interest: int

    @property
    def amount(self) -> int:
        return self.principal + self.interest


def schedule(uow: UnitOfWork, loan: Loan) -> list[Installment]:
    return list(
        uow.session.exec(select(Installment).where(Installment.loan_id == loan.id).order_by(col(Installment.seq)))
    )


def outstanding(uow: UnitOfWork, loan: Loan) -> list[Due]:
    """Unpaid parts of each installment, oldest first (interest is settled before principal)."""
    return allocate(schedule(uow, loan), repaid(uow, loan))


def allocate(installments: Sequence[Installment | Scheduled], repaid_total: int) -> list[Due]:
    """Spread ``repaid_total`` over the schedule, oldest first; what is left unpaid is due."""
    left = repaid_total
    dues = []
    for inst in installments:
        interest_paid = min(left, inst.interest_due)
        left -= interest_paid
        principal_paid = min(left, inst.principal_due)
        left -= principal_paid
        rest_i, rest_p = inst.interest_due - interest_paid, inst.principal_due - principal_paid
        if rest_i or rest_p:
            dues.append(Due(inst, rest_p, rest_i))
    return dues


def next_due(uow: UnitOfWork, loan: Loan) -> Due | None:
    dues = outstanding(uow, loan)
    return dues[0] if dues else None


def active_loans(uow: UnitOfWork, org_id: int, member_id: int) -> list[Loan]:
    return list(
        uow.session.exec(
            select(Loan).where(Loan.org_id == org_id, Loan.member_id == member_id, Loan.status == LoanStatus.ACTIVE)
        )
    )


def split(uow: UnitOfWork, loan: Loan, amount: int) -> tuple[int, int]:
    """How ``amount`` divides into (principal, interest) if paid now, oldest dues first.

    Anything beyond the schedule goes to principal (prepayment).
    """
    principal = interest = 0
    left = amount
    for due in outstanding(uow, loan):
        i = min(left, due.interest)
        left -= i
        p = min(left, due.principal)
        left -= p
        interest += i
        principal += p
        if left == 0:
            break
    return principal + left, interest


def post_repayment(
    uow: UnitOfWork,
    org: Organisation,
    loan: Loan,
    amount: int,
    *,
    source: AccountKind,
    memo: str,
    reference: str,
) -> LedgerTransaction:
    """Post a repayment: debit ``source`` (e.g. M-Pesa clearing), credit principal and interest.

    Closes the loan when nothing is left. The caller commits.
    """
    assert org.id is not None
    principal, interest = split(uow, loan, amount)
    lines = [
        (ledger.account(uow, org.id, source), amount),
        (ledger.account(uow, org.id, AccountKind.LOAN_PRINCIPAL, loan.member_id, loan.id), -principal),
        (ledger.account(uow, org.id, AccountKind.INTEREST_INCOME), -interest),
    ]
    txn = ledger.post(uow, org.id, REPAYMENT, lines, memo=memo, subject=subject(loan), reference=reference)
    if not outstanding(uow, loan):
        loan.status = LoanStatus.CLOSED
        uow.session.add(loan)
    return txn
