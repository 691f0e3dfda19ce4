"""A member's balances as the ledger tells them.

This runs on every balance check, so it reads with four column queries (no ORM entity
loading), independent of each other so that PostgreSQL gets them in one round trip: account
sums, the active loans' schedules, what was repaid on them, and this cycle's contribution.
They state the rules of :func:`core.loans.repaid` and :func:`core.contributions.current_due`
again in SQL; tests/core/test_balances.py holds the two to the same answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from core import contributions, loans
from core.tables import DEBIT_NORMAL, AccountKind, LoanStatus
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


# A balance check runs on every "Balances" hop, so its four reads go straight to the DB-API
# (SQLAlchemy's execution layer cost more, ~80 us a statement, than SQLite itself), and, being
# independent of each other, travel to PostgreSQL in one round trip (UnitOfWork.fetch).
_ACCOUNT_SUMS = (
    "SELECT a.kind, a.loan_id, COALESCE(SUM(e.amount), 0) FROM account a"
    " LEFT JOIN ledger_entry e ON e.account_id = a.id"
    " WHERE a.org_id = %(org_id)s AND a.member_id = %(member_id)s GROUP BY a.id, a.kind, a.loan_id"
)
_ACTIVE_LOANS = "l.org_id = %(org_id)s AND l.member_id = %(member_id)s AND l.status = %(active)s"
_SCHEDULES = (
    "SELECT l.id, l.reference, i.seq, i.due_date, i.principal_due, i.interest_due FROM loan l"
    " JOIN installment i ON i.loan_id = l.id"
    f" WHERE {_ACTIVE_LOANS} ORDER BY l.id, i.seq"
)
_REPAID = (  # the rule of core.loans.repaid, for all of the member's active loans at once
    "SELECT t.subject, COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id JOIN account a ON a.id = e.account_id"
    " WHERE t.kind IN (%(repayment)s, %(reversal)s) AND a.kind IN (%(principal)s, %(interest)s)"
    f" AND t.subject IN (SELECT %(loan_prefix)s || l.id FROM loan l WHERE {_ACTIVE_LOANS})"
    " GROUP BY t.subject"
)
_CONTRIBUTION = (
    "SELECT p.amount, p.day_of_month, (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id WHERE t.subject = %(subject)s AND e.amount > 0)"
    " FROM contribution_plan p WHERE p.org_id = %(org_id)s"
)


def of_member(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> Balances:
    cycle = contributions.cycle_of(today)
    member = {"org_id": org_id, "member_id": member_id}
    loans_of = {**member, "active": LoanStatus.ACTIVE.name}
    sums, schedule_rows, repaid_rows, plan = uow.fetch(
        (_ACCOUNT_SUMS, member),
        (_SCHEDULES, loans_of),
        (_REPAID, {**loans_of, **_REPAID_KINDS}),
        (_CONTRIBUTION, {"org_id": org_id, "subject": contributions.subject(member_id, cycle)}),
    )
    by_kind: dict[str, int] = defaultdict(int)
    by_loan: dict[int, int] = {}
    for kind, loan_id, raw in sums:
        value = int(raw) if kind in _DEBIT_NORMAL_NAMES else -int(raw)
        by_kind[kind] += value
        if loan_id is not None:
            by_loan[loan_id] = value

    schedules: dict[int, tuple[str, list[loans.Scheduled]]] = {}
    for loan_id, reference, seq, due, principal_due, interest_due in schedule_rows:
        installment = loans.Scheduled(seq, _as_date(due), int(principal_due), int(interest_due))
        schedules.setdefault(loan_id, (reference, []))[1].append(installment)
    repaid = {subject: -int(raw) for subject, raw in repaid_rows}

    upcoming = []
    for loan_id, (reference, installments) in schedules.items():
        dues = loans.allocate(installments, repaid.get(f"{loans.SUBJECT_PREFIX}{loan_id}", 0))
        if dues:
            upcoming.append(NextInstallment(reference, dues[0].installment.due_date, dues[0].amount))
    upcoming.sort(key=lambda n: n.due_date)

    contribution = None
    if plan:
        amount, day, paid = plan[0]
        contribution = contributions.CycleDue(cycle, contributions.due_on(day, cycle), int(amount), int(paid))
    return Balances(
        savings=by_kind[AccountKind.SAVINGS.name],
        shares=by_kind[AccountKind.SHARES.name],
        loan=sum(by_loan.get(loan_id, 0) for loan_id in schedules),
        next_installment=upcoming[0] if upcoming else None,
        contribution=contribution,
    )


_DEBIT_NORMAL_NAMES = frozenset(kind.name for kind in DEBIT_NORMAL)
_REPAID_KINDS = {
    "repayment": loans.REPAYMENT,
    "reversal": f"reversal:{loans.REPAYMENT}",
    "principal": AccountKind.LOAN_PRINCIPAL.name,
    "interest": AccountKind.INTEREST_INCOME.name,
    "loan_prefix": loans.SUBJECT_PREFIX,
}


def _as_date(value: date | str) -> date:
    # SQLite hands dates back as ISO strings to a plain cursor.
    return value if isinstance(value, date) else date.fromisoformat(value)
