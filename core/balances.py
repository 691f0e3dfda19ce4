"""A member's balances as the ledger tells them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core import contributions, ledger, loans
from core.tables import AccountKind
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
    def bal(kind: AccountKind) -> int:
        return ledger.balance(uow, ledger.find_account(uow, org_id, kind, member_id))

    loan_total = 0
    upcoming: list[NextInstallment] = []
    for loan in loans.active_loans(uow, org_id, member_id):
        loan_total += ledger.balance(
            uow, ledger.find_account(uow, org_id, AccountKind.LOAN_PRINCIPAL, member_id, loan.id)
        )
        due = loans.next_due(uow, loan)
        if due is not None:
            upcoming.append(NextInstallment(loan.reference, due.installment.due_date, due.amount))
    upcoming.sort(key=lambda n: n.due_date)
    return Balances(
        savings=bal(AccountKind.SAVINGS),
        shares=bal(AccountKind.SHARES),
        loan=loan_total,
        next_installment=upcoming[0] if upcoming else None,
        contribution=contributions.current_due(uow, org_id, member_id, today),
    )
