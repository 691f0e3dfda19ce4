"""A member's balances as the ledger tells them.

This runs on every balance check, so it reads with a handful of column queries (no ORM
entity loading): account sums, the active loans' schedules, what was repaid on them, and
this cycle's contribution.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

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


# A balance check runs on every "Balances" hop, so these four reads go straight to the DB-API
# cursor: SQLAlchemy's execution layer cost more (~80 us a statement) than SQLite itself.
# Written once with %(name)s placeholders; SQLite gets them as :name.
_ACCOUNT_SUMS = (
    "SELECT a.kind, a.loan_id, COALESCE(SUM(e.amount), 0) FROM account a"
    " LEFT JOIN ledger_entry e ON e.account_id = a.id"
    " WHERE a.org_id = %(org_id)s AND a.member_id = %(member_id)s GROUP BY a.id, a.kind, a.loan_id"
)
_SCHEDULES = (
    "SELECT l.id, l.reference, i.seq, i.due_date, i.principal_due, i.interest_due FROM loan l"
    " JOIN installment i ON i.loan_id = l.id"
    " WHERE l.org_id = %(org_id)s AND l.member_id = %(member_id)s AND l.status = %(active)s ORDER BY l.id, i.seq"
)
_REPAID = (
    "SELECT t.subject, COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id JOIN account a ON a.id = e.account_id"
    " WHERE t.subject IN ({subjects}) AND t.kind IN (%(repayment)s, %(reversal)s)"
    " AND a.kind IN (%(principal)s, %(interest)s) GROUP BY t.subject"
)
_CONTRIBUTION = (
    "SELECT p.amount, p.day_of_month, (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id WHERE t.subject = %(subject)s AND e.amount > 0)"
    " FROM contribution_plan p WHERE p.org_id = %(org_id)s"
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _sql(statement: str, dialect: str) -> str:
    return _PLACEHOLDER.sub(r":\1", statement) if dialect == "sqlite" else statement


def of_member(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> Balances:
    dialect = uow.dialect
    with uow.cursor() as cursor:

        def rows(statement: str, params: dict[str, Any]) -> list[Any]:
            cursor.execute(_sql(statement, dialect), params)
            return list(cursor.fetchall())

        return _of_member(rows, org_id, member_id, today)


def _of_member(rows: Callable[[str, dict[str, Any]], list[Any]], org_id: int, member_id: int, today: date) -> Balances:
    by_kind: dict[str, int] = defaultdict(int)
    by_loan: dict[int, int] = {}
    for kind, loan_id, raw in rows(_ACCOUNT_SUMS, {"org_id": org_id, "member_id": member_id}):
        value = int(raw) if kind in _DEBIT_NORMAL_NAMES else -int(raw)
        by_kind[kind] += value
        if loan_id is not None:
            by_loan[loan_id] = value

    schedules: dict[int, tuple[str, list[loans.Scheduled]]] = {}
    params = {"org_id": org_id, "member_id": member_id, "active": LoanStatus.ACTIVE.name}
    for loan_id, reference, seq, due, principal_due, interest_due in rows(_SCHEDULES, params):
        installment = loans.Scheduled(seq, _as_date(due), int(principal_due), int(interest_due))
        schedules.setdefault(loan_id, (reference, []))[1].append(installment)
    repaid = _repaid(rows, list(schedules))

    upcoming = []
    for loan_id, (reference, installments) in schedules.items():
        dues = loans.allocate(installments, repaid.get(loan_id, 0))
        if dues:
            upcoming.append(NextInstallment(reference, dues[0].installment.due_date, dues[0].amount))
    upcoming.sort(key=lambda n: n.due_date)

    cycle = contributions.cycle_of(today)
    plan = rows(_CONTRIBUTION, {"org_id": org_id, "subject": contributions.subject(member_id, cycle)})
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


def _as_date(value: date | str) -> date:
    # SQLite hands dates back as ISO strings to a plain cursor.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _repaid(rows: Callable[[str, dict[str, Any]], list[Any]], loan_ids: list[int]) -> dict[int, int]:
    """Repaid totals of several loans in one query (same rule as :func:`core.loans.repaid`)."""
    if not loan_ids:
        return {}
    subjects = {f"loan:{loan_id}": loan_id for loan_id in loan_ids}
    params: dict[str, Any] = {f"s{i}": subject for i, subject in enumerate(subjects)}
    params.update(
        repayment=loans.REPAYMENT,
        reversal=f"reversal:{loans.REPAYMENT}",
        principal=AccountKind.LOAN_PRINCIPAL.name,
        interest=AccountKind.INTEREST_INCOME.name,
    )
    statement = _REPAID.format(subjects=", ".join(f"%(s{i})s" for i in range(len(subjects))))
    return {subjects[subject]: -int(raw) for subject, raw in rows(statement, params) if subject in subjects}
