"""When each phone last wrote to an organisation on each chat channel (WhatsApp's 24-hour window)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, timestamp


class Contact(SQLModel, table=True):
    """One phone on one channel of one organisation; member or not (customers write in too)."""

    __table_args__ = (UniqueConstraint("org_id", "phone", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    phone: str = Field(max_length=16)
    channel: str = Field(max_length=10)
    """``whatsapp`` or ``sms``."""
    provider: str = Field(default="", max_length=20)
    """Who carried the last inbound message (``whatsapp``, ``africastalking``, ``twilio``)."""
    binding: str = Field(default="", max_length=64)
    """The address it was sent to (WhatsApp phone-number-id, SMS short code or number): we answer from it."""
    last_inbound_at: datetime | None = timestamp()
    created_at: datetime = created_at()
