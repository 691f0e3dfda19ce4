"""The audit log: who (an API key or the CLI) changed what, and when; secrets never enter it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import phones
from core.tables import ApiKey, AuditLog
from core.uow import UnitOfWork

CLI = "cli"
_SECRET_NAMES = frozenset({"pin", "new_pin", "secret", "token", "password", "key", "key_hash", "api_key"})
_SECRET_ENDINGS = ("_pin", "_secret", "_token", "_password")
_REDACTED = "[redacted]"


def actor_of(key: ApiKey) -> str:
    return f"key:{key.prefix}"


def redact(details: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``details`` safe to keep: secret-looking fields hidden, phone numbers masked."""
    clean: dict[str, Any] = {}
    for name, value in details.items():
        lowered = name.lower()
        if lowered in _SECRET_NAMES or lowered.endswith(_SECRET_ENDINGS):
            clean[name] = _REDACTED
        elif isinstance(value, Mapping):
            clean[name] = redact(value)
        elif lowered == "phone" and isinstance(value, str):
            clean[name] = phones.mask(value)
        elif isinstance(value, str | int | float | bool) or value is None:
            clean[name] = value
        elif isinstance(value, list | tuple):
            clean[name] = [redact(v) if isinstance(v, Mapping) else str(v) for v in value][:50]
        else:
            clean[name] = str(value)
    return clean


def record(
    uow: UnitOfWork,
    org_id: int,
    actor: str,
    action: str,
    resource: str,
    resource_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row to the caller's transaction (it commits with the change it describes)."""
    row = AuditLog(
        org_id=org_id,
        actor=actor[:40],
        action=action[:64],
        resource=resource[:40],
        resource_id=None if resource_id is None else str(resource_id)[:64],
        details=redact(details or {}),
    )
    uow.session.add(row)
    return row
