"""Loans with their schedules, and repayments received in cash."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import partial

from pydantic import BaseModel, Field, model_validator
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import MAX_AMOUNT, Amount, Id, Input, Money, Page, PageQuery, Str, Utc
from core import loans, members, webhooks
from core.errors import Conflict, Invalid, NotFound
from core.tables import AccountKind, Loan, LoanStatus

TAG = "loans"


class InstallmentIn(Input):
    due_date: date
    principal: int = Field(ge=0, le=MAX_AMOUNT)
    interest: int = Field(ge=0, le=MAX_AMOUNT)


class LoanCreate(Input):
    member_id: Id
    reference: Str = Field(min_length=1, max_length=20, description="Unique in the organisation, e.g. LN-0042.")
    principal: Amount
    interest: int = Field(default=0, ge=0, le=MAX_AMOUNT, description="Total interest over the loan.")
    disbursed_on: date | None = Field(default=None, description="Default: today.")
    schedule: list[InstallmentIn] | None = Field(default=None, min_length=1, max_length=360)
    installments: int | None = Field(default=None, ge=1, le=120, description="Equal monthly installments...")
    first_due_date: date | None = Field(default=None, description="...the first due on this date.")

    @model_validator(mode="after")
    def _one_schedule(self) -> LoanCreate:
        if self.schedule is None and (self.installments is None or self.first_due_date is None):
            raise ValueError("give a schedule, or installments and first_due_date")
        if self.schedule is not None and (self.installments is not None or self.first_due_date is not None):
            raise ValueError("give a schedule or installments, not both")
        return self


class InstallmentOut(BaseModel):
    seq: int
    due_date: date
    principal_due: Money
    interest_due: Money
    outstanding: Money
    overdue: bool


class LoanOut(BaseModel):
    id: int
    member_id: int
    reference: str
    status: LoanStatus
    principal: Money
    interest: Money
    repaid: Money
    outstanding: Money
    disbursed_on: date
    created_at: Utc


class LoanDetail(LoanOut):
    schedule: list[InstallmentOut]


class LoanQuery(PageQuery):
    member_id: Id | None = None
    status: LoanStatus | None = None


class RepaymentIn(Input):
    amount: Amount
    reference: Str = Field(min_length=1, max_length=64, description="Your receipt number.")
    memo: Str | None = Field(default=None, max_length=200)


class RepaymentOut(BaseModel):
    transaction_id: int
    loan_id: int
    amount: Money
    principal: Money
    interest: Money
    loan_status: LoanStatus
    outstanding: Money


def loan_out(call: Call, loan: Loan, detail: bool = False) -> LoanOut:
    assert loan.id is not None
    dues = loans.outstanding(call.uow, loan)
    fields = {
        "id": loan.id,
        "member_id": loan.member_id,
        "reference": loan.reference,
        "status": loan.status,
        "principal": call.money(loan.principal),
        "interest": call.money(loan.interest),
        "repaid": call.money(loans.repaid(call.uow, loan)),
        "outstanding": call.money(sum(due.amount for due in dues)),
        "disbursed_on": loan.disbursed_on,
        "created_at": loan.created_at,
    }
    if not detail:
        return LoanOut(**fields)
    left = {due.installment.seq: due for due in dues}
    today = call.today()
    schedule = []
    for inst in loans.schedule(call.uow, loan):
        due = left.get(inst.seq)
        rest = due.amount if due else 0
        schedule.append(
            InstallmentOut(
                seq=inst.seq,
                due_date=inst.due_date,
                principal_due=call.money(inst.principal_due),
                interest_due=call.money(inst.interest_due),
                outstanding=call.money(rest),
                overdue=rest > 0 and inst.due_date < today,
            )
        )
    return LoanDetail(**fields, schedule=schedule)


def _loan(call: Call) -> Loan:
    loan = call.uow.session.get(Loan, call.params["loan_id"])
    if loan is None or loan.org_id != call.org_id:
        raise NotFound("no such loan", field="loan_id")
    return loan


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _equal_schedule(body: LoanCreate) -> list[tuple[date, int, int]]:
    assert body.installments is not None and body.first_due_date is not None
    n = body.installments
    if body.first_due_date > date(9999, 12, 31) - timedelta(days=31 * n):
        raise Invalid("the schedule runs past the year 9999", field="first_due_date")
    p, p_rest = divmod(body.principal, n)
    i, i_rest = divmod(body.interest, n)
    # The remainders go on the last installment so the schedule adds up exactly.
    return [
        (_add_months(body.first_due_date, k), p + (p_rest if k == n - 1 else 0), i + (i_rest if k == n - 1 else 0))
        for k in range(n)
    ]


@op("GET", "/loans", "loans.list", "List loans", tag=TAG, scope="loans:read", query=LoanQuery, response=Page[LoanOut])
def list_loans(call: Call) -> Page[LoanOut]:
    q: LoanQuery = call.query
    query = select(Loan).where(Loan.org_id == call.org_id)
    if q.member_id is not None:
        query = query.where(Loan.member_id == q.member_id)
    if q.status is not None:
        query = query.where(Loan.status == q.status)
    return paginate(call.uow, query, Loan.id, limit=q.limit, cursor=q.cursor, convert=partial(loan_out, call))


@op(
    "POST",
    "/loans",
    "loans.create",
    "Disburse a loan with its installment schedule",
    tag=TAG,
    scope="loans:write",
    body=LoanCreate,
    response=LoanDetail,
    status=201,
    idempotent=True,
)
def create_loan(call: Call) -> LoanOut:
    body: LoanCreate = call.body
    member = members.get_member(call.uow, call.org_id, body.member_id)
    if not member.active:
        raise Conflict("the member is deactivated", field="member_id")
    reference = body.reference.strip()
    taken = call.uow.session.exec(select(Loan.id).where(Loan.org_id == call.org_id, Loan.reference == reference))
    if taken.first() is not None:
        raise Conflict("that loan reference is taken", field="reference")
    if body.schedule is not None:
        plan = [(item.due_date, item.principal, item.interest) for item in body.schedule]
    else:
        plan = _equal_schedule(body)
    if len({due for due, _, _ in plan}) != len(plan):
        raise Invalid("two installments fall on the same day", field="schedule")
    assert member.id is not None
    loan = loans.disburse(
        call.uow,
        call.org,
        member.id,
        reference=reference,
        principal=body.principal,
        interest=body.interest,
        schedule=plan,
        disbursed_on=body.disbursed_on or call.today(),
    )
    out = loan_out(call, loan, detail=True)
    webhooks.emit(
        call.uow, call.org_id, "loan.disbursed", out.model_dump(mode="json", exclude={"schedule"}), call.now()
    )
    return out


@op(
    "GET",
    "/loans/{loan_id}",
    "loans.get",
    "A loan with its schedule and what is outstanding",
    tag=TAG,
    scope="loans:read",
    response=LoanDetail,
)
def get_loan(call: Call) -> LoanOut:
    return loan_out(call, _loan(call), detail=True)


@op(
    "POST",
    "/loans/{loan_id}/repayments",
    "loans.repay",
    "Record a repayment received in cash",
    tag=TAG,
    scope="payments:write",
    body=RepaymentIn,
    response=RepaymentOut,
    status=201,
    idempotent=True,
)
def repay(call: Call) -> RepaymentOut:
    body: RepaymentIn = call.body
    loan = _loan(call)
    if loan.status != LoanStatus.ACTIVE:
        raise Conflict("the loan is closed", field="loan_id")
    owed = sum(due.amount for due in loans.outstanding(call.uow, loan))
    if body.amount > owed:
        raise Invalid(f"more than the {owed} outstanding", field="amount")
    principal, interest = loans.split(call.uow, loan, body.amount)
    txn = loans.post_repayment(
        call.uow,
        call.org,
        loan,
        body.amount,
        source=AccountKind.CASH,
        memo=body.memo or f"Loan {loan.reference} repayment (cash)",
        reference=body.reference,
    )
    assert txn.id is not None and loan.id is not None
    return RepaymentOut(
        transaction_id=txn.id,
        loan_id=loan.id,
        amount=call.money(body.amount),
        principal=call.money(principal),
        interest=call.money(interest),
        loan_status=loan.status,
        outstanding=call.money(owed - body.amount),
    )


operations = [list_loans, create_loan, get_loan, repay]
