"""Posting to the double-entry ledger and reading balances back from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from core.errors import UnbalancedTransaction
from core.tables import DEBIT_NORMAL, Account, AccountKind, LedgerEntry, LedgerTransaction
from core.tables.ledger import account_scope
from core.uow import UnitOfWork

Line = tuple[Account, int]
"""One leg of a posting: the account and a signed amount (debit > 0, credit < 0)."""


def account(
    uow: UnitOfWork,
    org_id: int,
    kind: AccountKind,
    member_id: int | None = None,
    loan_id: int | None = None,
) -> Account:
    """The account of that kind for the org / member / loan, created on first use.

    Two transactions may both try to create it; the unique key lets one win and the other
    reads the winner's row (the insert runs in a savepoint so the caller's work survives).
    """
    found = find_account(uow, org_id, kind, member_id, loan_id)
    if found is not None:
        return found
    created = Account(
        org_id=org_id, kind=kind, member_id=member_id, loan_id=loan_id, scope=account_scope(member_id, loan_id)
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(created)
            uow.session.flush()
    except IntegrityError:
        winner = find_account(uow, org_id, kind, member_id, loan_id)
        if winner is None:
            raise
        return winner
    return created


def post(
    uow: UnitOfWork,
    org_id: int,
    kind: str,
    lines: Sequence[Line],
    *,
    memo: str = "",
    subject: str | None = None,
    reference: str | None = None,
    reverses_id: int | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction. The caller commits, with whatever else belongs to it.

    Raises:
        UnbalancedTransaction: if the lines do not sum to zero, an amount is not an int,
            or fewer than two non-zero lines remain.
    """
    legs = [(acc, amount) for acc, amount in lines if amount != 0]
    for _, amount in legs:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise UnbalancedTransaction(f"amounts must be int minor units, got {amount!r}")
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs at least two non-zero legs")
    total = sum(amount for _, amount in legs)
    if total != 0:
        raise UnbalancedTransaction(f"entries sum to {total}, not 0")
    txn = LedgerTransaction(
        org_id=org_id,
        kind=kind,
        memo=memo[:200],
        subject=subject,
        reference=reference,
        reverses_id=reverses_id,
    )
    uow.session.add(txn)
    uow.session.flush()
    assert txn.id is not None
    for acc, amount in legs:
        if acc.id is None:
            raise UnbalancedTransaction("post to saved accounts only (use ledger.account)")
        uow.session.add(LedgerEntry(transaction_id=txn.id, account_id=acc.id, amount=amount))
    uow.session.flush()
    return txn


def reverse(uow: UnitOfWork, txn: LedgerTransaction, *, memo: str = "") -> LedgerTransaction:
    """Post the mirror image of ``txn``; the ledger is never edited or deleted."""
    entries = uow.session.exec(select(LedgerEntry).where(LedgerEntry.transaction_id == txn.id)).all()
    accounts = {
        a.id: a for a in uow.session.exec(select(Account).where(col(Account.id).in_([e.account_id for e in entries])))
    }
    return post(
        uow,
        txn.org_id,
        f"reversal:{txn.kind}"[:32],
        [(accounts[e.account_id], -e.amount) for e in entries],
        memo=memo or f"Reversal of {txn.memo}",
        subject=txn.subject,
        reference=txn.reference,
        reverses_id=txn.id,
    )


def balance(uow: UnitOfWork, acc: Account | None) -> int:
    """The account's balance on its normal side (what a person would call the balance)."""
    if acc is None or acc.id is None:
        return 0
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == acc.id)
    ).one()
    return int(raw) if acc.kind in DEBIT_NORMAL else -int(raw)


def find_account(
    uow: UnitOfWork, org_id: int, kind: AccountKind, member_id: int | None = None, loan_id: int | None = None
) -> Account | None:
    query = select(Account).where(
        Account.org_id == org_id, Account.kind == kind, Account.scope == account_scope(member_id, loan_id)
    )
    return uow.session.exec(query).first()


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    memo: str
    amount: int
    """Signed from the member's point of view: money in is positive."""


def statement(uow: UnitOfWork, member_id: int, limit: int = 5) -> list[StatementLine]:
    """The member's latest ledger movements, newest first, across their own accounts."""
    rows = uow.session.exec(
        select(LedgerTransaction, LedgerEntry, Account)
        .join(LedgerEntry, col(LedgerEntry.transaction_id) == LedgerTransaction.id)
        .join(Account, col(Account.id) == LedgerEntry.account_id)
        .where(Account.member_id == member_id)
        .order_by(col(LedgerTransaction.id).desc(), col(LedgerEntry.id))
        .limit(limit)
    ).all()
    lines = []
    for txn, entry, _acc in rows:
        # A credit to a member's account is in their favour (a deposit, a loan repayment).
        lines.append(StatementLine(at=txn.created_at, memo=txn.memo, amount=-entry.amount))
    return lines


def trial_balance(uow: UnitOfWork, org_id: int) -> int:
    """Sum of every entry of the organisation: zero when the books are sound."""
    raw = uow.session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .where(LedgerTransaction.org_id == org_id)
    ).one()
    return int(raw)
