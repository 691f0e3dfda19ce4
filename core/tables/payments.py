"""M-Pesa STK push payments: one row per prompt, written before the push, settled exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, money, timestamp


class PaymentState(StrEnum):
    """Where a payment is. CREATED -> PENDING -> one of the settled states (see docs/payments.md)."""

    CREATED = "created"
    """Written, not yet accepted by M-Pesa (the push job may be running)."""
    PENDING = "pending"
    """M-Pesa accepted the push; the prompt is on the payer's phone."""
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"
    """We cannot tell (lost push answer, or held for review); a callback or query may still settle it."""


OPEN_STATES = frozenset({PaymentState.CREATED, PaymentState.PENDING, PaymentState.UNKNOWN})
"""States the compare-and-set may leave; every other state is final."""


class PaymentPurpose(StrEnum):
    CONTRIBUTION = "contribution"
    LOAN_REPAYMENT = "loan_repayment"
    COLLECTION = "collection"
    SALE = "sale"


class Payment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_payment_member_state", "org_id", "member_id", "state"),
        Index("ix_payment_state_created", "state", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    """Who the payment is for (the member; for sales and collections, the agent)."""
    purpose: PaymentPurpose = Field(max_length=20)
    subject: str | None = Field(default=None, max_length=64)
    """What it pays, by purpose: loan id, contribution cycle ("2026-11"), collection id, sale id."""
    amount: int = money()
    phone: str = Field(max_length=16)
    """The payer's M-Pesa number, E.164."""
    account_reference: str = Field(max_length=12)
    """Shown on the payer's M-Pesa SMS (Daraja allows 12 characters)."""
    idempotency_key: str = Field(max_length=120, unique=True)
    callback_token: str = Field(max_length=64, unique=True, repr=False)
    """The secret last part of this payment's callback URL; identifies the payment to the callback."""
    state: PaymentState = Field(default=PaymentState.CREATED, max_length=12)
    merchant_request_id: str | None = Field(default=None, max_length=64)
    checkout_request_id: str | None = Field(default=None, max_length=64, unique=True)
    mpesa_receipt: str | None = Field(default=None, max_length=20, unique=True)
    result_code: int | None = None
    result_desc: str | None = Field(default=None, max_length=200)
    paid_amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """The amount M-Pesa reported paid (callback), kept even when it does not match ``amount``."""
    paid_phone: str | None = Field(default=None, max_length=16)
    """The payer number M-Pesa reported, E.164, when readable."""
    needs_review: bool = Field(default=False, index=True)
    review_reason: str | None = Field(default=None, max_length=40)
    review_note: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = timestamp()
    ledger_transaction_id: int | None = Field(default=None, foreign_key="ledger_transaction.id")
    push_started_at: datetime | None = timestamp()
    """Set by the push job before it calls M-Pesa, so only one job ever pushes a payment."""
    confirmed_at: datetime | None = timestamp()
    """When a status query confirmed a payment that a callback had credited."""
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()
    settled_at: datetime | None = timestamp()
