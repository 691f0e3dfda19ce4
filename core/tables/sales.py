"""Agents' trade: the catalogue, commission rules, sales with their items, and collections owed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, money, timestamp


class Product(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("org_id", "short_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=40)
    short_code: str = Field(max_length=16)
    """What agents type in SMS (``SALE SUGAR1KG 2``); upper case letters and digits."""
    sku: str | None = Field(default=None, max_length=40)
    unit_price: int = money()
    active: bool = True
    stock: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """Units on hand, or None when the organisation does not track stock for this product."""
    low_stock_threshold: int = 0
    created_at: datetime = created_at()


class CommissionRule(SQLModel, table=True):
    """Commission in basis points (500 = 5%) of a line's value; ``product_id`` None is the default."""

    __tablename__ = "commission_rule"
    __table_args__ = (UniqueConstraint("org_id", "product_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    basis_points: int
    created_at: datetime = created_at()


class SaleStatus(StrEnum):
    COMPLETED = "completed"
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_FAILED = "payment_failed"
    VOIDED = "voided"


class PaymentMethod(StrEnum):
    CASH = "cash"
    MPESA = "mpesa"


class Sale(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("org_id", "reference"),
        Index("ix_sale_agent_created", "agent_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    agent_id: int = Field(foreign_key="member.id")
    reference: str = Field(max_length=16)
    """Human reference, ``S-000123``, numbered per organisation."""
    total: int = money()
    commission: int = money()
    """Always the sum of the items' commissions."""
    payment_method: PaymentMethod
    customer_phone: str | None = Field(default=None, max_length=16)
    status: SaleStatus
    payment_id: int | None = Field(default=None, index=True)
    """The M-Pesa payment collecting this sale, if any."""
    created_at: datetime = created_at()
    completed_at: datetime | None = timestamp()
    voided_at: datetime | None = timestamp()
    voided_by: str | None = Field(default=None, max_length=64)
    """Who voided it: ``member:<id>`` for an officer, ``api:<key prefix>`` for the admin API."""
    void_reason: str | None = Field(default=None, max_length=120)


class SaleItem(SQLModel, table=True):
    __tablename__ = "sale_item"

    id: int | None = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="sale.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    unit_price: int = money()
    """The price at the time of sale (a later price change does not rewrite history)."""
    line_total: int = money()
    commission: int = money()


class CollectionStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class Collection(SQLModel, table=True):
    """An amount an agent owes the organisation, with a due date."""

    __table_args__ = (UniqueConstraint("org_id", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    agent_id: int = Field(foreign_key="member.id", index=True)
    reference: str = Field(max_length=16)
    """Human reference, ``C-000045``: the M-Pesa account reference when the agent pays."""
    amount: int = money()
    due_date: date
    status: CollectionStatus = CollectionStatus.OPEN
    paid_payment_id: int | None = Field(default=None)
    paid_at: datetime | None = timestamp()
    created_by: str = Field(default="admin", max_length=64)
    """``admin``, ``api:<key prefix>``, ``policy`` (generated from cash sales)..."""
    created_at: datetime = created_at()


class CollectionPolicy(SQLModel, table=True):
    """Whether and how collections are generated from agents' cash sales."""

    __tablename__ = "collection_policy"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", unique=True)
    generate_daily: bool = False
    """Sum each agent's uncollected cash every day into a new collection."""
    due_in_days: int = 1
    minimum: int = money(default=0)
    """Below this much uncollected cash no collection is generated."""


class UnmatchedPayment(SQLModel, table=True):
    """Money that came in for a collection but matched none: kept for an officer to review."""

    __tablename__ = "unmatched_payment"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    payment_id: int | None = Field(default=None, unique=True)
    reference: str = Field(default="", max_length=40)
    amount: int = money()
    phone: str | None = Field(default=None, max_length=16)
    reason: str = Field(max_length=120)
    reviewed: bool = False
    reviewed_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at()


class ReferenceCounter(SQLModel, table=True):
    """The last number handed out per organisation and prefix (``S``, ``C``)."""

    __tablename__ = "reference_counter"

    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    prefix: str = Field(max_length=4, primary_key=True)
    last: int = 0
