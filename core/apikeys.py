"""API keys: created with a secret shown once, stored as a prefix and a hash, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from sqlmodel import col, select

from core.clock import as_utc
from core.errors import Conflict, Invalid, NotFound
from core.tables import ApiKey
from core.uow import UnitOfWork

SCOPES = frozenset(
    {
        "admin",
        "members:read",
        "members:write",
        "loans:read",
        "loans:write",
        "payments:read",
        "payments:write",
        "sales:read",
        "sales:write",
        "reminders:read",
        "reminders:write",
        "messages:read",
        "webhooks:read",
        "webhooks:write",
        "reports:read",
        "audit:read",
    }
)
"""Every scope a key can hold; ``admin`` holds them all."""

_KIND = "jk_live_"
_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LEN = len(_KIND) + 8
_TOUCH_EVERY = timedelta(minutes=1)
# Compared against when the prefix is unknown, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"jumbe-no-such-key").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(raw: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split, trim, de-duplicate and check scopes ("a,b" or a list).

    Raises:
        Invalid: an unknown scope, or none at all (``field="scopes"``).
    """
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = sorted({item.strip() for item in items if item.strip()})
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise Invalid(f"unknown scope {unknown[0]!r}; known: {', '.join(sorted(SCOPES))}", field="scopes")
    if not scopes:
        raise Invalid("give at least one scope", field="scopes")
    return scopes


def scopes_of(key: ApiKey) -> frozenset[str]:
    return frozenset(scope for scope in key.scopes.split(",") if scope)


def allows(key: ApiKey, scope: str | None) -> bool:
    """Whether ``key`` may do what needs ``scope`` (``None``: any valid key may)."""
    held = scopes_of(key)
    return scope is None or "admin" in held or scope in held


def create(uow: UnitOfWork, org_id: int, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Make a key for ``org_id``; returns the row and the plaintext token, which is never stored.

    Raises:
        Invalid: bad name or scopes.
    """
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("a name of 1 to 120 characters", field="name")
    checked = parse_scopes(scopes)
    for _ in range(5):
        prefix = _KIND + "".join(secrets.choice(_ALPHABET) for _ in range(_PREFIX_LEN - len(_KIND)))
        if uow.session.exec(select(ApiKey.id).where(ApiKey.prefix == prefix)).first() is None:
            break
    else:  # 36**8 prefixes: five collisions in a row mean something else is wrong
        raise Conflict("could not pick a free key prefix", field="prefix")
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(org_id=org_id, name=name, prefix=prefix, key_hash=_hash(token), scopes=",".join(checked))
    uow.session.add(key)
    uow.session.flush()
    return key, token


def verify(uow: UnitOfWork, token: str | None, now: datetime) -> ApiKey | None:
    """The live key whose token this is, or None; timing does not depend on how close a guess is.

    Records ``last_used_at`` (at most once a minute per key); the caller commits.
    """
    if not token or len(token) > 200 or not token.isascii():
        return None
    prefix = token[:_PREFIX_LEN]
    key = uow.session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    expected = key.key_hash if key is not None else _DUMMY_HASH
    matched = hmac.compare_digest(expected, _hash(token))
    if key is None or not matched or key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - as_utc(key.last_used_at) > _TOUCH_EVERY:
        key.last_used_at = now
        uow.session.add(key)
    return key


def get(uow: UnitOfWork, org_id: int, key_id: int) -> ApiKey:
    key = uow.session.get(ApiKey, key_id)
    if key is None or key.org_id != org_id:
        raise NotFound("no such API key", field="key_id")
    return key


def by_prefix(uow: UnitOfWork, prefix: str) -> ApiKey:
    key = uow.session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}", field="prefix")
    return key


def list_keys(uow: UnitOfWork, org_id: int) -> list[ApiKey]:
    return list(uow.session.exec(select(ApiKey).where(ApiKey.org_id == org_id).order_by(col(ApiKey.id))))


def revoke(key: ApiKey, now: datetime) -> bool:
    """Revoke ``key`` from ``now`` on; False if it already was (revoking twice changes nothing)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    return True
