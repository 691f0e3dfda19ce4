"""``Idempotency-Key``: a retried POST gets the first answer back instead of doing the work twice.

The record is written in the same transaction as the work, so either both happen or neither.
Two racing requests with one key: the second fails on the unique (org, key) at commit, its work
rolls back, and it answers with the first one's response. The same key with a different request
is a client bug and answers 409. Keys are remembered for 24 hours.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlmodel import select

from admin_api.errors import ApiError
from core.clock import as_utc
from core.tables import IdempotencyRecord
from core.uow import UnitOfWork

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def check_key(value: str | None) -> str | None:
    """The header's value, or None when absent.

    Raises:
        ApiError: 400 when present but not 1 to 255 printable ASCII characters.
    """
    if value is None:
        return None
    if not _KEY.match(value):
        raise ApiError(400, "invalid", f"{HEADER}: 1 to 255 printable ASCII characters", HEADER)
    return value


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def find(uow: UnitOfWork, org_id: int, key: str, now: datetime) -> IdempotencyRecord | None:
    """The live record for ``key``; an expired one is deleted (in the caller's transaction)."""
    record = uow.session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.org_id == org_id, IdempotencyRecord.key == key)
    ).first()
    if record is not None and now - as_utc(record.created_at) > TTL:
        uow.session.delete(record)
        uow.session.flush()
        return None
    return record


def matches(record: IdempotencyRecord, request_hash: str) -> None:
    """Raises a 409 ApiError when the key was first used for a different request."""
    if record.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"this {HEADER} was used for a different request ({record.method} {record.path})",
            HEADER,
        )


def remember(
    uow: UnitOfWork,
    org_id: int,
    key: str,
    *,
    method: str,
    path: str,
    request_hash: str,
    status_code: int,
    media_type: str,
    body: str,
    now: datetime,
) -> None:
    uow.session.add(
        IdempotencyRecord(
            org_id=org_id,
            key=key,
            method=method,
            path=path[:255],
            request_hash=request_hash,
            status_code=status_code,
            media_type=media_type,
            body=body,
            created_at=now,
        )
    )
