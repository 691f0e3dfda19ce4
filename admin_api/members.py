"""Members and agents: list, add, edit, deactivate, reset PIN, opt in/out, balances, statement."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import col, or_, select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Input, Page, PageQuery, Str, Utc
from core import members, phones, roster
from core.errors import Invalid
from core.tables import Member, Role

TAG = "members"
Language = Literal["en", "sw"]
Channel = Literal["whatsapp", "sms"]


class MemberOut(BaseModel):
    id: int
    member_no: str
    name: str
    phone: str = Field(description="E.164, e.g. +254712345678.")
    role: Role
    language: str | None
    preferred_channel: str | None
    active: bool
    opted_out: bool
    pin_set: bool
    pin_locked_until: Utc | None
    created_at: Utc

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        assert member.id is not None
        return cls(
            id=member.id,
            member_no=member.member_no,
            name=member.name,
            phone=member.phone,
            role=member.role,
            language=member.language,
            preferred_channel=member.preferred_channel,
            active=member.active,
            opted_out=member.opted_out,
            pin_set=member.pin_hash is not None,
            pin_locked_until=member.locked_until,
            created_at=member.created_at,
        )


class MemberCreate(Input):
    phone: Str = Field(min_length=1, max_length=32, description="Any common form; stored as E.164.")
    name: Str = Field(min_length=1, max_length=120)
    role: Role = Role.MEMBER
    member_no: Str | None = Field(default=None, min_length=1, max_length=20, description="Default: next free.")
    language: Language | None = None
    preferred_channel: Channel | None = None


class MemberUpdate(Input):
    name: Str | None = Field(default=None, min_length=1, max_length=120)
    phone: Str | None = Field(default=None, min_length=1, max_length=32, description="Changing it clears the PIN.")
    role: Role | None = None
    language: Language | None = None
    preferred_channel: Channel | None = None


class MemberQuery(PageQuery):
    role: Role | None = None
    active: bool | None = None
    opted_out: bool | None = None
    phone: Str | None = Field(default=None, max_length=32, description="Exact number, any common form.")
    q: Str | None = Field(default=None, max_length=120, description="Part of the name or member number.")


def member_of(call: Call) -> Member:
    """The member named by the path, in the caller's organisation (404 otherwise)."""
    return members.get_member(call.uow, call.org_id, call.params["member_id"])


@op(
    "GET",
    "/members",
    "members.list",
    "List members and agents",
    tag=TAG,
    scope="members:read",
    query=MemberQuery,
    response=Page[MemberOut],
)
def list_members(call: Call) -> Page[MemberOut]:
    q: MemberQuery = call.query
    query = select(Member).where(Member.org_id == call.org_id)
    if q.role is not None:
        query = query.where(Member.role == q.role)
    if q.active is not None:
        query = query.where(col(Member.active).is_(q.active))
    if q.opted_out is not None:
        query = query.where(col(Member.opted_out).is_(q.opted_out))
    if q.phone:
        query = query.where(Member.phone == phones.normalise(q.phone))
    if q.q:
        needle = f"%{q.q.lower()}%"
        query = query.where(or_(col(Member.name).ilike(needle), col(Member.member_no).ilike(needle)))
    return paginate(call.uow, query, Member.id, limit=q.limit, cursor=q.cursor, convert=MemberOut.of)


@op(
    "POST",
    "/members",
    "members.create",
    "Add a member or agent",
    tag=TAG,
    scope="members:write",
    body=MemberCreate,
    response=MemberOut,
    status=201,
    idempotent=True,
)
def create_member(call: Call) -> MemberOut:
    body: MemberCreate = call.body
    member = roster.add(
        call.uow,
        call.org,
        phone=body.phone,
        name=body.name,
        now=call.now(),
        role=body.role,
        member_no=body.member_no,
        language=body.language,
        preferred_channel=body.preferred_channel,
    )
    return MemberOut.of(member)


@op("GET", "/members/{member_id}", "members.get", "One member", tag=TAG, scope="members:read", response=MemberOut)
def get_member(call: Call) -> MemberOut:
    return MemberOut.of(member_of(call))


@op(
    "PATCH",
    "/members/{member_id}",
    "members.update",
    "Change a member's details",
    tag=TAG,
    scope="members:write",
    body=MemberUpdate,
    response=MemberOut,
)
def update_member(call: Call) -> MemberOut:
    body: MemberUpdate = call.body
    changes = body.model_dump(include=body.model_fields_set)
    for required in ("name", "phone", "role"):
        if required in changes and changes[required] is None:
            raise Invalid(f"{required} cannot be null", field=required)
    return MemberOut.of(roster.update(call.uow, call.org, call.params["member_id"], changes, call.now()))


@op(
    "POST",
    "/members/{member_id}/deactivate",
    "members.deactivate",
    "Deactivate (balances are kept)",
    tag=TAG,
    scope="members:write",
    response=MemberOut,
)
def deactivate(call: Call) -> MemberOut:
    return MemberOut.of(roster.set_active(call.uow, call.org, call.params["member_id"], False, call.now()))


@op(
    "POST",
    "/members/{member_id}/reactivate",
    "members.reactivate",
    "Reactivate",
    tag=TAG,
    scope="members:write",
    response=MemberOut,
)
def reactivate(call: Call) -> MemberOut:
    return MemberOut.of(roster.set_active(call.uow, call.org, call.params["member_id"], True, call.now()))


@op(
    "POST",
    "/members/{member_id}/reset-pin",
    "members.reset_pin",
    "Clear the PIN and any lock-out; the member picks a new PIN on next contact",
    tag=TAG,
    scope="members:write",
    response=MemberOut,
)
def reset_pin(call: Call) -> MemberOut:
    return MemberOut.of(roster.reset_pin(call.uow, call.org, call.params["member_id"]))


@op(
    "POST",
    "/members/{member_id}/opt-out",
    "members.opt_out",
    "Stop reminders and broadcasts",
    tag=TAG,
    scope="members:write",
    response=MemberOut,
)
def opt_out(call: Call) -> MemberOut:
    return MemberOut.of(roster.set_opted_out(call.uow, call.org, call.params["member_id"], True))


@op(
    "POST",
    "/members/{member_id}/opt-in",
    "members.opt_in",
    "Resume reminders and broadcasts",
    tag=TAG,
    scope="members:write",
    response=MemberOut,
)
def opt_in(call: Call) -> MemberOut:
    return MemberOut.of(roster.set_opted_out(call.uow, call.org, call.params["member_id"], False))


operations = [
    list_members,
    create_member,
    get_member,
    update_member,
    deactivate,
    reactivate,
    reset_pin,
    opt_out,
    opt_in,
]
