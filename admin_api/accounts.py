"""A member's money: balances and the ledger statement."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlmodel import col, select

from admin_api.members import TAG, member_of
from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Money, Page, PageQuery, Utc
from core import balances
from core.tables import Account, LedgerEntry, LedgerTransaction


class NextInstallmentOut(BaseModel):
    loan_reference: str
    due_date: date
    amount: Money


class ContributionDueOut(BaseModel):
    cycle: str
    due_date: date
    amount_due: Money
    paid: Money
    remaining: Money


class BalancesOut(BaseModel):
    member_id: int
    savings: Money
    shares: Money
    loan: Money = Field(description="Outstanding principal across active loans.")
    next_installment: NextInstallmentOut | None
    contribution: ContributionDueOut | None


class StatementLineOut(BaseModel):
    id: int = Field(description="The ledger entry.")
    at: Utc
    memo: str
    account: str = Field(description="savings, shares, loan_principal, ...")
    amount: Money = Field(description="Signed from the member's side: money in (a deposit, a repayment) > 0.")
    reference: str | None


@op(
    "GET",
    "/members/{member_id}/balances",
    "members.balances",
    "Savings, shares, loan and what is due",
    tag=TAG,
    scope="members:read",
    response=BalancesOut,
)
def member_balances(call: Call) -> BalancesOut:
    member = member_of(call)
    assert member.id is not None
    found = balances.of_member(call.uow, call.org_id, member.id, call.today())
    upcoming = found.next_installment
    due = found.contribution
    return BalancesOut(
        member_id=member.id,
        savings=call.money(found.savings),
        shares=call.money(found.shares),
        loan=call.money(found.loan),
        next_installment=None
        if upcoming is None
        else NextInstallmentOut(
            loan_reference=upcoming.loan_reference, due_date=upcoming.due_date, amount=call.money(upcoming.amount)
        ),
        contribution=None
        if due is None
        else ContributionDueOut(
            cycle=due.cycle,
            due_date=due.due_date,
            amount_due=call.money(due.amount_due),
            paid=call.money(due.paid),
            remaining=call.money(due.remaining),
        ),
    )


@op(
    "GET",
    "/members/{member_id}/statement",
    "members.statement",
    "Ledger movements on the member's accounts",
    tag=TAG,
    scope="members:read",
    query=PageQuery,
    response=Page[StatementLineOut],
)
def member_statement(call: Call) -> Page[StatementLineOut]:
    member = member_of(call)
    q: PageQuery = call.query
    query = (
        select(LedgerEntry, LedgerTransaction, Account)
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(Account.member_id == member.id, Account.org_id == call.org_id)
    )

    def convert(row: tuple[LedgerEntry, LedgerTransaction, Account]) -> StatementLineOut:
        entry, txn, account = row
        assert entry.id is not None
        return StatementLineOut(
            id=entry.id,
            at=txn.created_at,
            memo=txn.memo,
            account=str(account.kind),
            amount=call.money(-entry.amount),
            reference=txn.reference,
        )

    return paginate(
        call.uow, query, LedgerEntry.id, limit=q.limit, cursor=q.cursor, convert=convert, row_id=lambda r: r[0].id
    )


operations = [member_balances, member_statement]
