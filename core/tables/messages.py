"""The message log: every message in and out on WhatsApp and SMS, for support and the admin API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, timestamp


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class MessageStatus(StrEnum):
    """Inbound: received, then processed or failed. Outbound: queued -> sent -> delivered -> read, or failed."""

    RECEIVED = "received"
    PROCESSED = "processed"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class MessageLog(SQLModel, table=True):
    """One provider message. Content is masked: answers to PIN prompts are stored as ``****``."""

    __tablename__ = "message_log"
    __table_args__ = (
        # An inbound provider id is recorded once: the database's last word on redeliveries.
        UniqueConstraint("provider", "direction", "provider_message_id", name="uq_message_log_provider_id"),
        Index("ix_message_log_org_id", "org_id", "id"),
        Index("ix_message_log_member", "org_id", "member_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    phone: str = Field(max_length=16)
    """The other party, E.164."""
    channel: str = Field(max_length=10)
    """``whatsapp`` or ``sms``."""
    provider: str = Field(max_length=20)
    # Plain strings, not database enums: reports compare and filter on the values directly.
    direction: str = Field(max_length=3)
    """``in`` or ``out`` (:class:`Direction`)."""
    kind: str = Field(default="text", max_length=20)
    """``text``, ``choice`` (a tap), ``interactive``, ``template``, ``sms``, or an unsupported kind (``image``)."""
    purpose: str | None = Field(default=None, max_length=10)
    """Outbound only: ``reply`` (conversation) or ``notice`` (notifier); a failed notice falls back to SMS."""
    provider_message_id: str | None = Field(default=None, max_length=128)
    status: str = Field(max_length=10)
    """One of :class:`MessageStatus`."""
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, max_length=200)
    segments: int | None = None
    """SMS parts billed (GSM-7 / UCS-2 aware); None for WhatsApp."""
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()
    sent_at: datetime | None = timestamp()
    delivered_at: datetime | None = timestamp()
    read_at: datetime | None = timestamp()
