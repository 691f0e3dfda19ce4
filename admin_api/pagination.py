"""Cursor pagination, newest first: the cursor is an opaque token holding the last id returned."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from admin_api.errors import ApiError
from admin_api.schemas import MAX_ID, Page
from core.uow import UnitOfWork

Row = TypeVar("Row")
Out = TypeVar("Out")

_VERSION = "v1:"


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_VERSION}{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    """The id a cursor points after.

    Raises:
        ApiError: 422 naming ``cursor`` when it is not one of ours.
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not text.startswith(_VERSION):
            raise ValueError(text)
        value = int(text[len(_VERSION) :])
        if not 1 <= value <= MAX_ID:
            raise ValueError(text)
        return value
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError(422, "invalid", "cursor: not a cursor from this API", "cursor") from None


def paginate(
    uow: UnitOfWork,
    query: Any,
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    convert: Callable[[Row], Out],
    row_id: Callable[[Row], int | None] | None = None,
) -> Page[Out]:
    """Run ``query`` (rows, or tuples given ``row_id``) one page at a time, by descending ``id_column``."""
    column = col(id_column)
    if cursor:
        after: ColumnElement[bool] = column < decode(cursor)
        query = query.where(after)
    rows: Sequence[Row] = uow.session.exec(query.order_by(column.desc()).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    ident = row_id or (lambda row: getattr(row, "id", None))
    last = ident(rows[-1]) if rows and has_more else None
    return Page[Any](
        data=[convert(row) for row in rows],
        has_more=has_more,
        next_cursor=encode(last) if last is not None else None,
    )
