"""A member's balances as the ledger tells them.

This runs on every balance check, so it reads with a handful of column queries (no ORM
entity loading): account sums, the active loans' schedules, what was repaid on them, and
this cycle's contribution.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, text

from core import contributions, loans
from core.tables import DEBIT_NORMAL, AccountKind, ContributionPlan, LoanStatus
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


# Prepared once: this runs on every balance check, so statements are not rebuilt per call.
_ACCOUNT_SUMS = text(
    "SELECT a.kind, a.loan_id, COALESCE(SUM(e.amount), 0) FROM account a"
    " LEFT JOIN ledger_entry e ON e.account_id = a.id"
    " WHERE a.org_id = :org_id AND a.member_id = :member_id GROUP BY a.id, a.kind, a.loan_id"
)
_SCHEDULES = text(
    "SELECT l.id, l.reference, i.seq, i.due_date, i.principal_due, i.interest_due FROM loan l"
    " JOIN installment i ON i.loan_id = l.id"
    " WHERE l.org_id = :org_id AND l.member_id = :member_id AND l.status = :active ORDER BY l.id, i.seq"
)
_REPAID = text(
    "SELECT t.subject, COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id JOIN account a ON a.id = e.account_id"
    " WHERE t.subject IN :subjects AND t.kind IN :kinds AND a.kind IN :account_kinds GROUP BY t.subject"
).bindparams(
    bindparam("subjects", expanding=True),
    bindparam("kinds", expanding=True),
    bindparam("account_kinds", expanding=True),
)
_CONTRIBUTION = text(
    "SELECT p.amount, p.day_of_month, (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_transaction t"
    " JOIN ledger_entry e ON e.transaction_id = t.id WHERE t.subject = :subject AND e.amount > 0)"
    " FROM contribution_plan p WHERE p.org_id = :org_id"
)


def of_member(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> Balances:
    run = uow.session.connection().execute
    by_kind: dict[str, int] = defaultdict(int)
    by_loan: dict[int, int] = {}
    for kind, loan_id, raw in run(_ACCOUNT_SUMS, {"org_id": org_id, "member_id": member_id}):
        value = int(raw) if kind in _DEBIT_NORMAL_NAMES else -int(raw)
        by_kind[kind] += value
        if loan_id is not None:
            by_loan[loan_id] = value

    schedules: dict[int, tuple[str, list[loans.Scheduled]]] = {}
    params = {"org_id": org_id, "member_id": member_id, "active": LoanStatus.ACTIVE.name}
    for loan_id, reference, seq, due, principal_due, interest_due in run(_SCHEDULES, params):
        installment = loans.Scheduled(seq, _as_date(due), principal_due, interest_due)
        schedules.setdefault(loan_id, (reference, []))[1].append(installment)
    repaid = _repaid(uow, list(schedules))

    upcoming = []
    for loan_id, (reference, installments) in schedules.items():
        dues = loans.allocate(installments, repaid.get(loan_id, 0))
        if dues:
            upcoming.append(NextInstallment(reference, dues[0].installment.due_date, dues[0].amount))
    upcoming.sort(key=lambda n: n.due_date)
    return Balances(
        savings=by_kind[AccountKind.SAVINGS.name],
        shares=by_kind[AccountKind.SHARES.name],
        loan=sum(by_loan.get(loan_id, 0) for loan_id in schedules),
        next_installment=upcoming[0] if upcoming else None,
        contribution=_contribution(uow, org_id, member_id, today),
    )


_DEBIT_NORMAL_NAMES = frozenset(kind.name for kind in DEBIT_NORMAL)


def _as_date(value: date | str) -> date:
    # SQLite hands dates back as ISO strings through a text() query.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _repaid(uow: UnitOfWork, loan_ids: list[int]) -> dict[int, int]:
    """Repaid totals of several loans in one query (same rule as :func:`core.loans.repaid`)."""
    if not loan_ids:
        return {}
    subjects = {f"loan:{loan_id}": loan_id for loan_id in loan_ids}
    rows = uow.session.connection().execute(
        _REPAID,
        {
            "subjects": list(subjects),
            "kinds": [loans.REPAYMENT, f"reversal:{loans.REPAYMENT}"],
            "account_kinds": [AccountKind.LOAN_PRINCIPAL.name, AccountKind.INTEREST_INCOME.name],
        },
    )
    return {subjects[subject]: -int(raw) for subject, raw in rows if subject in subjects}


def _contribution(uow: UnitOfWork, org_id: int, member_id: int, today: date) -> contributions.CycleDue | None:
    cycle = contributions.cycle_of(today)
    row = (
        uow.session.connection()
        .execute(_CONTRIBUTION, {"org_id": org_id, "subject": contributions.subject(member_id, cycle)})
        .first()
    )
    if row is None:
        return None
    amount, day, paid = row
    due = contributions.due_date(ContributionPlan(org_id=org_id, amount=amount, day_of_month=day), cycle)
    return contributions.CycleDue(cycle, due, amount, int(paid))
