"""Members, agents and officers of an organisation."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from core import phones
from core.errors import Conflict, Invalid, NotFound
from core.tables import Member, Organisation, Role
from core.uow import UnitOfWork


def find_by_phone(uow: UnitOfWork, org_id: int, phone_e164: str) -> Member | None:
    return uow.session.exec(select(Member).where(Member.org_id == org_id, Member.phone == phone_e164)).first()


def get_member(uow: UnitOfWork, org_id: int, member_id: int) -> Member:
    member = uow.session.get(Member, member_id)
    if member is None or member.org_id != org_id:
        raise NotFound("no such member", field="member_id")
    return member


def next_member_no(uow: UnitOfWork, org_id: int, role: Role) -> str:
    prefix = {Role.MEMBER: "M", Role.AGENT: "A", Role.OFFICER: "O"}[role]
    count = uow.session.exec(select(func.count()).select_from(Member).where(Member.org_id == org_id)).one()
    return f"{prefix}{int(count) + 1:05d}"


def register(
    uow: UnitOfWork,
    org: Organisation,
    *,
    phone: str,
    name: str,
    role: Role = Role.MEMBER,
    member_no: str | None = None,
    language: str | None = None,
) -> Member:
    """Add a member, agent or officer to ``org``.

    Raises:
        Invalid: bad phone, name or language.
        Conflict: the phone or member number is already registered in this organisation.
    """
    assert org.id is not None
    e164 = phones.normalise(phone)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("a name of 1 to 120 characters", field="name")
    if language not in (None, "en", "sw"):
        raise Invalid("language is en or sw", field="language")
    if find_by_phone(uow, org.id, e164) is not None:
        raise Conflict("that phone is already registered", field="phone")
    number = member_no or next_member_no(uow, org.id, role)
    if uow.session.exec(select(Member).where(Member.org_id == org.id, Member.member_no == number)).first():
        raise Conflict("that member number is taken", field="member_no")
    member = Member(org_id=org.id, phone=e164, name=name, role=role, member_no=number, language=language)
    uow.session.add(member)
    uow.session.flush()
    return member


def set_opt_out(uow: UnitOfWork, member: Member, opted_out: bool) -> bool:
    """Record the member's choice about reminders and broadcasts, for every channel at once.

    An opted-out member still uses the service by writing in; only messages we start are held
    back. Returns True when the choice changed; the caller commits.
    """
    if member.opted_out == opted_out:
        return False
    member.opted_out = opted_out
    uow.session.add(member)
    return True
