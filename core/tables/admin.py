"""The back office's own tables: API keys, the audit log, idempotency records and outbound webhooks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables.base import created_at, timestamp


class ApiKey(SQLModel, table=True):
    """A bearer key of one organisation; only its prefix and a hash are kept.

    The secret part is 256 random bits, so a plain SHA-256 of it cannot be brute-forced; a slow
    hash (argon2) is for low-entropy secrets such as 4-digit PINs and would only add latency to
    every API call here.
    """

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=24, unique=True)
    """Shown in lists and logs, e.g. ``jk_live_ab12cd34``; identifies the key, grants nothing."""
    key_hash: str = Field(max_length=64, repr=False)
    scopes: str = Field(default="", max_length=500)
    """Comma-separated, e.g. ``members:read,payments:read``."""
    created_at: datetime = created_at()
    last_used_at: datetime | None = timestamp()
    revoked_at: datetime | None = timestamp()


class AuditLog(SQLModel, table=True):
    """Who changed what, when: every write through the admin API and the CLI."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_resource", "org_id", "resource", "resource_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    actor: str = Field(max_length=40)
    """``key:<prefix>`` for the API, ``cli`` for the command line."""
    action: str = Field(max_length=64)
    resource: str = Field(max_length=40)
    resource_id: str | None = Field(default=None, max_length=64)
    at: datetime = created_at()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """What was asked for, with secrets (PINs, keys, webhook secrets) removed."""


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a POST sent with an ``Idempotency-Key``; replayed on retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    media_type: str = Field(default="application/json", max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at()


class WebhookSubscription(SQLModel, table=True):
    """An organisation's endpoint for outbound events; ``secret`` signs every delivery."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    url: str = Field(max_length=500)
    events: str = Field(max_length=1000)
    """Comma-separated event types, or ``*`` for all."""
    # Kept in clear on purpose: HMAC signing needs the secret itself, not a hash of it.
    secret: str = Field(max_length=80, repr=False)
    description: str = Field(default="", max_length=200)
    active: bool = True
    created_at: datetime = created_at()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or to be sent) to one subscription, with what happened on each attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    event_id: str = Field(max_length=40, index=True)
    """The same for every subscription and every replay of one event, so receivers can de-duplicate."""
    event: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """The exact JSON body that is signed and sent."""
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    next_attempt_at: datetime | None = timestamp()
    delivered_at: datetime | None = timestamp()
    replay_of: int | None = Field(default=None, foreign_key="webhook_delivery.id")
    created_at: datetime = created_at()
