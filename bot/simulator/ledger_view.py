"""What the simulator's side panel shows for a phone: its ledger balances, read from core."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from core import balances, ledger, members, orgs
from core.clock import Clock
from core.money import format_amount
from core.tables import Account, AccountKind, BindingKind, Loan, Organisation
from core.uow import UnitOfWork

_LABELS = {
    AccountKind.SAVINGS: "Savings",
    AccountKind.SHARES: "Shares",
    AccountKind.LOAN_PRINCIPAL: "Loan",
    AccountKind.AGENT_CASH: "Cash to remit",
    AccountKind.COMMISSION_PAYABLE: "Commission",
}
_ORDER = list(_LABELS)


def org_for(uow: UnitOfWork, ussd_code: str) -> Organisation | None:
    """Return the organisation the simulator's USSD code reaches (its binding, else the catch-all)."""
    return orgs.resolve_binding(uow, BindingKind.USSD, ussd_code)


def member_view(uow: UnitOfWork, org: Organisation, phone: str, clock: Clock) -> dict[str, Any]:
    """Return the member's name, every account balance, what is due next and the books' state."""
    assert org.id is not None
    currency = org.currency

    def money(minor: int) -> dict[str, Any]:
        return {"minor": minor, "text": format_amount(minor, currency)}

    view: dict[str, Any] = {
        "phone": phone,
        "org": {"name": org.name, "currency": currency},
        "member": None,
        "accounts": [],
        "next_installment": None,
        "contribution": None,
        "recent": [],
        "books_balanced": ledger.trial_balance(uow, org.id) == 0,
    }
    member = members.find_by_phone(uow, org.id, phone)
    if member is None or member.id is None:
        return view
    view["member"] = {"name": member.name, "member_no": member.member_no, "role": str(member.role)}
    view["accounts"] = _accounts(uow, org.id, member.id, money)
    today = clock.now().astimezone(ZoneInfo(org.timezone)).date()
    figures = balances.of_member(uow, org.id, member.id, today)
    if figures.next_installment is not None:
        due = figures.next_installment
        view["next_installment"] = {
            "loan": due.loan_reference,
            "due_date": due.due_date.isoformat(),
            **money(due.amount),
        }
    if figures.contribution is not None:
        cycle = figures.contribution
        view["contribution"] = {
            "cycle": cycle.cycle,
            "due_date": cycle.due_date.isoformat(),
            "paid": money(cycle.paid),
            **money(cycle.amount_due),
        }
    view["recent"] = [
        {"at": line.at.isoformat(), "memo": line.memo, **money(line.amount)}
        for line in ledger.statement(uow, member.id, limit=5)
    ]
    return view


def _accounts(uow: UnitOfWork, org_id: int, member_id: int, money: Any) -> list[dict[str, Any]]:
    rows = uow.session.exec(
        select(Account, Loan)
        .join(Loan, col(Loan.id) == Account.loan_id, isouter=True)
        .where(Account.org_id == org_id, Account.member_id == member_id)
        .order_by(col(Account.id))
    ).all()
    accounts = []
    for account, loan in rows:
        label = _LABELS.get(account.kind, str(account.kind).replace("_", " ").capitalize())
        if loan is not None:
            label = f"{label} {loan.reference}"
        rank = _ORDER.index(account.kind) if account.kind in _ORDER else len(_ORDER)
        accounts.append((rank, {"kind": str(account.kind), "label": label, **money(ledger.balance(uow, account))}))
    accounts.sort(key=lambda pair: pair[0])
    return [entry for _, entry in accounts]
