"""Reminder rules, the reminders planned from them, and broadcasts to many members.

A :class:`Reminder` row exists at most once per ``(rule, target, due date, occurrence)``: that
unique key is what makes the planner safe to rerun, to crash half-way, or to run twice at once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, money, timestamp


class TargetKind(StrEnum):
    LOAN_INSTALLMENT = "loan_installment"
    CONTRIBUTION = "contribution"
    COLLECTION = "collection"


class DeliveryState(StrEnum):
    PLANNED = "planned"
    """Waiting for its ``send_after``."""
    QUEUED = "queued"
    """Claimed by a dispatcher and handed to a delivery job."""
    SENDING = "sending"
    """A job is talking to the provider right now (a crash here leaves it for review, never resent)."""
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every channel refused it (or the provider reported a final failure)."""
    DEAD = "dead"
    """Transient errors until the maximum number of attempts."""
    CANCELLED = "cancelled"
    """The item was paid (or the broadcast withdrawn) before it went out."""
    SKIPPED = "skipped"
    """Not sent on purpose: opted out, nothing due any more, superseded, no channel."""


FINAL_STATES = frozenset(
    {DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.CANCELLED, DeliveryState.SKIPPED}
)


class ReminderRule(SQLModel, table=True):
    """When to remind about one kind of due item, relative to its due date, and what to say."""

    __tablename__ = "reminder_rule"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    target: TargetKind
    offset_days: int
    """Days from the due date: -3 is three days before, 0 the day itself, 7 a week late."""
    repeat_every_days: int | None = None
    """After ``offset_days``, again every N days while the item stays unpaid..."""
    max_repeats: int = 0
    """...at most this many more times."""
    template_en: str = Field(max_length=480)
    template_sw: str = Field(max_length=480)
    """Text with ``{name} {amount} {due_date} {reference} {org}``."""
    pay_now: bool = True
    active: bool = True
    created_at: datetime = created_at()


class Reminder(SQLModel, table=True):
    """One message about one due item, planned once and delivered at most once."""

    __table_args__ = (
        UniqueConstraint("rule_id", "target_kind", "target_id", "due_date", "occurrence", name="uq_reminder_once"),
        Index("ix_reminder_state_send_after", "state", "send_after"),
        Index("ix_reminder_target", "org_id", "target_kind", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    rule_id: int = Field(foreign_key="reminder_rule.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    target_kind: TargetKind
    target_id: str = Field(max_length=40)
    """Installment id, ``<member>:<cycle>`` for contributions, collection id."""
    due_date: date
    occurrence: int = 0
    """0 for the rule's offset, 1.. for the repeats while overdue."""
    amount: int = money()
    """What was due when planned (minor units); the pay shortcut pre-fills it."""
    reference: str = Field(default="", max_length=40)
    lang: str = Field(default="en", max_length=5)
    body: str = Field(max_length=640)
    pay_now: bool = False
    state: DeliveryState = DeliveryState.PLANNED
    send_after: datetime = Field(sa_type=DateTime(timezone=True))
    channel: str | None = Field(default=None, max_length=10)
    attempts: int = 0
    provider_message_id: str | None = Field(default=None, max_length=128, index=True)
    error: str | None = Field(default=None, max_length=200)
    offer_used_at: datetime | None = timestamp()
    created_at: datetime = created_at()
    sent_at: datetime | None = timestamp()


class Audience(StrEnum):
    ALL = "all"
    ROLE = "role"
    LIST = "list"


class BroadcastState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """An announcement from the back office to all members, one role, or a list of members."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    audience: Audience
    role: str | None = Field(default=None, max_length=10)
    member_ids: str = Field(default="", max_length=20_000)
    """Comma-separated member ids for ``audience == list``."""
    body_en: str = Field(max_length=640)
    body_sw: str = Field(max_length=640)
    created_by: str = Field(default="", max_length=80)
    state: BroadcastState = BroadcastState.QUEUED
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    created_at: datetime = created_at()


class BroadcastMessage(SQLModel, table=True):
    """One recipient of a broadcast; delivered through the same routing as reminders."""

    __tablename__ = "broadcast_message"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "member_id", name="uq_broadcast_member"),
        Index("ix_broadcast_message_state_send_after", "state", "send_after"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    lang: str = Field(default="en", max_length=5)
    body: str = Field(max_length=640)
    pay_now: bool = False
    state: DeliveryState = DeliveryState.PLANNED
    send_after: datetime = Field(sa_type=DateTime(timezone=True))
    channel: str | None = Field(default=None, max_length=10)
    attempts: int = 0
    provider_message_id: str | None = Field(default=None, max_length=128, index=True)
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at()
    sent_at: datetime | None = timestamp()
