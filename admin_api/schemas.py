"""Shapes shared by every resource: strings, ids, money, timestamps, pages and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from core.clock import as_utc

NO_NUL = r"^[^\x00]*$"
MAX_ID = 2**31 - 1
"""Ids are 32-bit serial columns; a larger one cannot exist, and PostgreSQL would refuse to compare it."""
MAX_AMOUNT = 10**13
"""Ten trillion minor units; more than any SACCO moves at once, far below BIGINT."""

Str = Annotated[str, StringConstraints(pattern=NO_NUL)]
"""Any text without NUL characters (PostgreSQL refuses them; better a 422 than a 500)."""
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Amount = Annotated[int, Field(ge=1, le=MAX_AMOUNT, description="Integer minor units (cents), never a float.")]
Utc = Annotated[datetime, AfterValidator(as_utc)]
"""Stored UTC (SQLite hands it back naive), sent as ISO 8601 with ``Z``."""


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 at +01:00 is before the first representable instant
        raise ValueError("outside the years 0001 to 9999 in UTC") from None


def _iso_only(value: object) -> object:
    if isinstance(value, str) and value.strip().lstrip("-+").replace(".", "", 1).isdigit():
        raise ValueError("use ISO 8601 with an offset, e.g. 2026-11-01T00:00:00Z (not a Unix timestamp)")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]
"""A time filter: ISO 8601 with an offset (``2026-11-01T00:00:00+03:00`` or ``...Z``)."""


class Input(BaseModel):
    """Request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query strings: unknown parameters are refused too (``?rol=agent`` must not list everyone)."""

    model_config = ConfigDict(extra="forbid")


Q = TypeVar("Q")


class CreatedRange(Query):
    """A ``created_from`` (inclusive) .. ``created_to`` (exclusive) window, shared by listings and exports."""

    created_from: Instant | None = Field(default=None, description="ISO 8601 with offset, inclusive.")
    created_to: Instant | None = Field(default=None, description="ISO 8601 with offset, exclusive.")

    def within(self, query: Q, column: Any) -> Q:
        """``query`` narrowed to rows whose ``column`` falls in the window."""
        if self.created_from is not None:
            query = query.where(column >= self.created_from)
        if self.created_to is not None:
            query = query.where(column < self.created_to)
        return query


class Money(BaseModel):
    amount: int = Field(description="Integer minor units of ``currency`` (KES 12.50 is 1250).")
    currency: str = Field(description="ISO 4217 code, e.g. KES.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    data: list[T]
    has_more: bool
    next_cursor: str | None


class PageQuery(Query):
    limit: int = Field(default=20, ge=1, le=100, description="Items per page, 1 to 100.")
    cursor: Str | None = Field(default=None, max_length=200, description="``next_cursor`` of the previous page.")


class RowProblem(BaseModel):
    row: int
    field: str | None
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: not_found, invalid, conflict, unauthorized...")
    message: str
    field: str | None = Field(description="The request field at fault, when there is one.")
    rows: list[RowProblem] | None = Field(default=None, description="Per-row problems of a CSV import.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Deleted(BaseModel):
    id: int
    deleted: bool = True
