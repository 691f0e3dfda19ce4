"""The balance check's fast reads agree with the ledger rules of core.loans and core.contributions."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from core import balances, contributions, ledger, loans, members, orgs
from core.tables import AccountKind, ContributionPlan, LedgerTransaction, Loan, LoanStatus, Organisation
from core.uow import UnitOfWork

TODAY = date(2026, 11, 22)


def _loan(uow: UnitOfWork, org: Organisation, member_id: int, reference: str, first_due: date) -> Loan:
    schedule = [(first_due + timedelta(days=30 * i), 100_000, 10_000) for i in range(4)]
    return loans.disburse(
        uow, org, member_id, reference=reference, principal=400_000, interest=40_000, schedule=schedule,
        disbursed_on=TODAY - timedelta(days=40),
    )  # fmt: skip


def _expected(uow: UnitOfWork, org_id: int, member_id: int) -> tuple[int, loans.Due | None, int]:
    """Loan principal outstanding, the next due across active loans, and this cycle's payments,
    by the ORM rules."""
    active = loans.active_loans(uow, org_id, member_id)
    principal = sum(
        ledger.balance(uow, ledger.find_account(uow, org_id, AccountKind.LOAN_PRINCIPAL, member_id, loan.id))
        for loan in active
    )
    dues = [due for loan in active if (due := loans.next_due(uow, loan)) is not None]
    due = min(dues, key=lambda d: d.installment.due_date, default=None)
    current = contributions.current_due(uow, org_id, member_id, TODAY)
    return principal, due, current.paid if current else -1


def test_fast_reads_match_the_ledger_rules_through_repayments_and_reversals(any_db: DbEngine) -> None:
    with UnitOfWork(any_db) as uow:
        org = orgs.create_org(uow, "Balances Chama", slug="balances")
        assert org.id is not None
        uow.session.add(ContributionPlan(org_id=org.id, amount=50_000, day_of_month=5))
        member = members.register(uow, org, phone="+254722000111", name="Wanjiku")
        other = members.register(uow, org, phone="+254722000222", name="Otieno")
        assert member.id is not None and other.id is not None
        older = _loan(uow, org, member.id, "LN-A", TODAY - timedelta(days=10))
        newer = _loan(uow, org, member.id, "LN-B", TODAY + timedelta(days=3))
        _loan(uow, org, other.id, "LN-C", TODAY - timedelta(days=20))  # someone else's: never counted
        uow.commit()
        org_id, member_id = org.id, member.id
        steps = [
            ("repay", older, 60_000),  # part of the first installment (interest first)
            ("repay", newer, 110_000),  # the newer loan's first installment exactly
            ("reverse", None, 0),  # the last repayment undone
            ("repay", older, 330_000),  # most of the older loan
            ("contribute", None, 20_000),
            ("contribute", None, 35_000),
            ("repay", older, 110_000),  # the older loan is closed: it no longer counts
        ]
        for n, (what, loan, amount) in enumerate(steps):
            if what == "repay":
                assert loan is not None
                loans.post_repayment(
                    uow, org, loan, amount, source=AccountKind.MPESA_CLEARING, memo="repay", reference=f"R{n}"
                )
            elif what == "reverse":
                last = uow.session.exec(
                    select(LedgerTransaction)
                    .where(LedgerTransaction.kind == loans.REPAYMENT)
                    .order_by(LedgerTransaction.id.desc())  # type: ignore[union-attr]
                ).first()
                assert last is not None
                ledger.reverse(uow, last, memo="reversed")
            else:
                contributions.post_contribution(
                    uow, org, member_id, amount, cycle=contributions.cycle_of(TODAY),
                    source=AccountKind.CASH, memo="contribution", reference=f"C{n}",
                )  # fmt: skip
            uow.commit()
            fast = balances.of_member(uow, org_id, member_id, TODAY)
            principal, due, paid = _expected(uow, org_id, member_id)
            assert fast.loan == principal, (what, n)
            if due is None:
                assert fast.next_installment is None
            else:
                assert fast.next_installment is not None
                assert (fast.next_installment.due_date, fast.next_installment.amount) == (
                    due.installment.due_date,
                    due.amount,
                ), (what, n)
            assert fast.contribution is not None and fast.contribution.paid == paid, (what, n)
        assert uow.session.get(Loan, older.id).status == LoanStatus.CLOSED  # type: ignore[union-attr]
        assert fast.contribution.paid == 55_000
