"""CSV import of members: every row or none, with a per-row error report."""

from __future__ import annotations

from pydantic import BaseModel, Field

from admin_api.members import MemberOut
from admin_api.operations import Call, op
from admin_api.schemas import Query
from core import roster

TAG = "members"


class ImportQuery(Query):
    dry_run: bool = Field(default=False, description="Check every row and report, but import nothing.")


class ImportOut(BaseModel):
    rows: int = Field(description="Rows read; all of them were valid.")
    imported: int = Field(description="Members added (0 on a dry run).")
    dry_run: bool
    members: list[MemberOut] = Field(description="The members added (empty on a dry run).")


@op(
    "POST",
    "/imports/members",
    "members.import",
    "Import members from CSV (all rows or none)",
    tag=TAG,
    scope="members:write",
    query=ImportQuery,
    response=ImportOut,
    status=201,
    idempotent=True,
    request_media_type="text/csv",
    description=(
        "Send `Content-Type: text/csv` with a header line `phone,name[,role,member_no,language,preferred_channel]`. "
        "If any row is bad, nothing is imported and the 422 error lists each bad row (`error.rows`)."
    ),
)
def import_members(call: Call) -> ImportOut:
    q: ImportQuery = call.query
    rows = roster.parse_csv(call.body)
    added = roster.import_rows(call.uow, call.org, rows, call.now())
    call.commit = not q.dry_run
    call.audit_details = {"rows": len(rows)}
    call.resource_id = f"{len(added)} members"
    kept = [] if q.dry_run else [MemberOut.of(member) for member in added]
    return ImportOut(rows=len(rows), imported=len(kept), dry_run=q.dry_run, members=kept)


operations = [import_members]
