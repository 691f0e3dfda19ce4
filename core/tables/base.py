"""Shared column helpers for the SQLModel tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime
from sqlmodel import Field

from core.clock import utcnow


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def timestamp(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def money(nullable: bool = False, default: int | None = 0) -> Any:
    """Minor units; BIGINT so no organisation outgrows it."""
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable))


def aware(value: datetime | None) -> datetime | None:
    from core.clock import as_utc

    return None if value is None else as_utc(value)
