"""The double-entry ledger: accounts, transactions and their entries.

Entries are signed minor units: debits positive, credits negative. Every transaction's
entries sum to zero; balances are sums of entries, never stored numbers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at


class AccountKind(StrEnum):
    # per member
    SAVINGS = "savings"
    SHARES = "shares"
    LOAN_PRINCIPAL = "loan_principal"
    AGENT_CASH = "agent_cash"
    COMMISSION_PAYABLE = "commission_payable"
    # per organisation
    MPESA_CLEARING = "mpesa_clearing"
    CASH = "cash"
    INTEREST_INCOME = "interest_income"
    SALES_REVENUE = "sales_revenue"
    COMMISSION_EXPENSE = "commission_expense"
    FEES_INCOME = "fees_income"
    SUSPENSE = "suspense"


DEBIT_NORMAL = frozenset(
    {
        AccountKind.LOAN_PRINCIPAL,
        AccountKind.AGENT_CASH,
        AccountKind.MPESA_CLEARING,
        AccountKind.CASH,
        AccountKind.COMMISSION_EXPENSE,
    }
)
"""Assets and expenses grow with debits; everything else (what we owe, what we earn) with credits."""


def account_scope(member_id: int | None, loan_id: int | None) -> str:
    """One string naming whose account it is, so uniqueness holds without relying on NULLs."""
    if loan_id is not None:
        return f"loan:{loan_id}"
    if member_id is not None:
        return f"member:{member_id}"
    return "org"


class Account(SQLModel, table=True):
    # SQL treats NULLs as distinct, so (org, member=NULL, kind) would not stop two org-level
    # accounts being created by concurrent first postings; ``scope`` makes the key total.
    __table_args__ = (UniqueConstraint("org_id", "kind", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    loan_id: int | None = Field(default=None, foreign_key="loan.id")
    kind: AccountKind
    scope: str = Field(default="org", max_length=32)
    created_at: datetime = created_at()


class LedgerTransaction(SQLModel, table=True):
    __tablename__ = "ledger_transaction"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=32)
    memo: str = Field(default="", max_length=200)
    subject: str | None = Field(default=None, max_length=64, index=True)
    """What the transaction is about, e.g. ``loan:12``, ``payment:7``, ``sale:3``."""
    reference: str | None = Field(default=None, max_length=64)
    reverses_id: int | None = Field(default=None, foreign_key="ledger_transaction.id")
    created_at: datetime = created_at()


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entry"

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int = Field(foreign_key="ledger_transaction.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
