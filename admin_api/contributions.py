"""Contributions received at the office (the plan itself is under the organisation)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from admin_api.loans import TAG
from admin_api.operations import Call, op
from admin_api.schemas import Amount, Input, Money, Str
from core import contributions, members
from core.tables import AccountKind

CYCLE = r"^\d{4}-(0[1-9]|1[0-2])$"


class ContributionIn(Input):
    amount: Amount
    reference: Str = Field(min_length=1, max_length=64, description="Your receipt number.")
    cycle: str | None = Field(default=None, pattern=CYCLE, description="YYYY-MM; default: this month.")
    memo: Str | None = Field(default=None, max_length=200)


class ContributionOut(BaseModel):
    transaction_id: int
    member_id: int
    cycle: str
    amount: Money
    paid_in_cycle: Money


@op(
    "POST",
    "/members/{member_id}/contributions",
    "contributions.record",
    "Record a contribution received in cash",
    tag=TAG,
    scope="payments:write",
    body=ContributionIn,
    response=ContributionOut,
    status=201,
    idempotent=True,
)
def record_contribution(call: Call) -> ContributionOut:
    body: ContributionIn = call.body
    member = members.get_member(call.uow, call.org_id, call.params["member_id"])
    assert member.id is not None
    cycle = body.cycle or contributions.cycle_of(call.today())
    txn = contributions.post_contribution(
        call.uow,
        call.org,
        member.id,
        body.amount,
        cycle=cycle,
        source=AccountKind.CASH,
        memo=body.memo or "Contribution (cash)",
        reference=body.reference,
    )
    assert txn.id is not None
    return ContributionOut(
        transaction_id=txn.id,
        member_id=member.id,
        cycle=cycle,
        amount=call.money(body.amount),
        paid_in_cycle=call.money(contributions.paid_in_cycle(call.uow, member.id, cycle)),
    )


operations = [record_contribution]
