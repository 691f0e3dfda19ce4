"""Loans with installment schedules, and contribution plans."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, money


class LoanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class Loan(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("org_id", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    reference: str = Field(max_length=20)
    principal: int = money()
    interest: int = money()
    status: LoanStatus = LoanStatus.ACTIVE
    disbursed_on: date
    created_at: datetime = created_at()


class Installment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("loan_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    seq: int
    due_date: date = Field(index=True)
    principal_due: int = money()
    interest_due: int = money()


class ContributionPlan(SQLModel, table=True):
    """The organisation's regular contribution: ``amount`` due on ``day_of_month`` every month."""

    __tablename__ = "contribution_plan"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", unique=True)
    amount: int = money()
    day_of_month: int = 5
    account_kind: str = Field(default="savings", max_length=20)
    created_at: datetime = created_at()
