"""The audit log, read-only: every write by an API key or the CLI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Page, PageQuery, Str, Utc
from core.tables import AuditLog

TAG = "audit"


class AuditOut(BaseModel):
    id: int
    at: Utc
    actor: str = Field(description="key:<prefix> or cli.")
    action: str = Field(description="The operation, e.g. members.create.")
    resource: str
    resource_id: str | None
    details: dict[str, Any] = Field(description="What was asked for; secrets redacted, phones masked.")

    @classmethod
    def of(cls, row: AuditLog) -> AuditOut:
        assert row.id is not None
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            resource=row.resource,
            resource_id=row.resource_id,
            details=row.details,
        )


class AuditQuery(PageQuery):
    action: Str | None = Field(default=None, max_length=64)
    resource: Str | None = Field(default=None, max_length=40)
    resource_id: Str | None = Field(default=None, max_length=64)
    actor: Str | None = Field(default=None, max_length=40)


@op(
    "GET",
    "/audit-log",
    "audit.list",
    "Who changed what, and when",
    tag=TAG,
    scope="audit:read",
    query=AuditQuery,
    response=Page[AuditOut],
)
def list_audit(call: Call) -> Page[AuditOut]:
    q: AuditQuery = call.query
    query = select(AuditLog).where(AuditLog.org_id == call.org_id)
    for name in ("action", "resource", "resource_id", "actor"):
        value = getattr(q, name)
        if value is not None:
            query = query.where(getattr(AuditLog, name) == value)
    return paginate(call.uow, query, AuditLog.id, limit=q.limit, cursor=q.cursor, convert=AuditOut.of)


operations = [list_audit]
