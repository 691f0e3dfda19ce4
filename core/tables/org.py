"""Organisations, the channel addresses bound to them, and their members."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, money, timestamp


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=120)
    currency: str = Field(default="KES", max_length=3)
    timezone: str = Field(default="Africa/Nairobi", max_length=64)
    default_language: str = Field(default="en", max_length=5)
    quiet_start: str = Field(default="20:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    pin_max_attempts: int = 3
    pin_lock_minutes: int = 30
    min_payment: int = money(default=1000)
    max_payment: int = money(default=15000000)
    agents_may_change_price: bool = False
    created_at: datetime = created_at()


class BindingKind(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ChannelBinding(SQLModel, table=True):
    """Which provider address belongs to which organisation; ``*`` is the catch-all."""

    __tablename__ = "channel_binding"
    __table_args__ = (UniqueConstraint("kind", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    kind: BindingKind
    address: str = Field(max_length=64)
    created_at: datetime = created_at()


class Role(StrEnum):
    MEMBER = "member"
    AGENT = "agent"
    OFFICER = "officer"


class Member(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("org_id", "phone"),
        UniqueConstraint("org_id", "member_no"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    phone: str = Field(max_length=16, index=True)
    member_no: str = Field(max_length=20)
    name: str = Field(max_length=120)
    role: Role = Role.MEMBER
    language: str | None = Field(default=None, max_length=5)
    preferred_channel: str | None = Field(default=None, max_length=10)
    pin_hash: str | None = Field(default=None, max_length=200, repr=False)
    failed_pin_attempts: int = 0
    locked_until: datetime | None = timestamp()
    opted_out: bool = False
    active: bool = True
    created_at: datetime = created_at()
