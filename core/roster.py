"""Back-office changes to who belongs to an organisation: add, edit, deactivate, opt out, import."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import members, phones, pins, webhooks
from core.errors import Conflict, DomainError, Invalid
from core.tables import Member, Organisation, Role
from core.uow import UnitOfWork

CHANNELS = ("whatsapp", "sms")
"""Where a member may prefer to be reached first (USSD cannot be pushed to)."""
IMPORT_COLUMNS = ("phone", "name", "role", "member_no", "language", "preferred_channel")
MAX_IMPORT_ROWS = 5000


def event_data(member: Member) -> dict[str, Any]:
    """How a member appears in webhook payloads."""
    return {
        "id": member.id,
        "member_no": member.member_no,
        "name": member.name,
        "phone": member.phone,
        "role": str(member.role),
        "active": member.active,
        "opted_out": member.opted_out,
    }


def _check_channel(value: str | None) -> str | None:
    if value not in (None, *CHANNELS):
        raise Invalid(f"preferred_channel is one of {', '.join(CHANNELS)} or null", field="preferred_channel")
    return value


def add(
    uow: UnitOfWork,
    org: Organisation,
    *,
    phone: str,
    name: str,
    now: datetime,
    role: Role = Role.MEMBER,
    member_no: str | None = None,
    language: str | None = None,
    preferred_channel: str | None = None,
) -> Member:
    """Register a member (or agent, officer) and announce ``member.created``.

    Raises:
        Invalid: bad phone, name, language or channel.
        Conflict: phone or member number taken in this organisation.
    """
    assert org.id is not None
    channel = _check_channel(preferred_channel)
    if member_no is not None and not (1 <= len(member_no.strip()) <= 20):
        raise Invalid("a member number of 1 to 20 characters", field="member_no")
    member = members.register(
        uow,
        org,
        phone=phone,
        name=name,
        role=role,
        member_no=member_no.strip() if member_no else None,
        language=language,
    )
    member.preferred_channel = channel
    uow.session.add(member)
    webhooks.emit(uow, org.id, "member.created", event_data(member), now)
    return member


def update(uow: UnitOfWork, org: Organisation, member_id: int, changes: Mapping[str, Any], now: datetime) -> Member:
    """Change name, phone, role, language or preferred channel; announces ``member.updated``.

    Raises:
        NotFound: not a member of this organisation.
        Invalid, Conflict: as for :func:`add`.
    """
    assert org.id is not None
    member = members.get_member(uow, org.id, member_id)
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name or len(name) > 120:
            raise Invalid("a name of 1 to 120 characters", field="name")
        member.name = name
    if "phone" in changes:
        e164 = phones.normalise(changes["phone"] or "")
        other = members.find_by_phone(uow, org.id, e164)
        if other is not None and other.id != member.id:
            raise Conflict("that phone is already registered", field="phone")
        if e164 != member.phone:
            # A new SIM must not inherit the old PIN: the member sets a new one on first contact.
            pins.reset_pin(member)
        member.phone = e164
    if "language" in changes:
        if changes["language"] not in (None, "en", "sw"):
            raise Invalid("language is en or sw", field="language")
        member.language = changes["language"]
    if "preferred_channel" in changes:
        member.preferred_channel = _check_channel(changes["preferred_channel"])
    if "role" in changes:
        try:
            member.role = Role(changes["role"])
        except ValueError as exc:
            raise Invalid("role is member, agent or officer", field="role") from exc
    uow.session.add(member)
    uow.session.flush()
    webhooks.emit(uow, org.id, "member.updated", event_data(member), now)
    return member


def set_active(uow: UnitOfWork, org: Organisation, member_id: int, active: bool, now: datetime) -> Member:
    """Deactivate (no more service, balances kept) or reactivate a member."""
    assert org.id is not None
    member = members.get_member(uow, org.id, member_id)
    if member.active != active:
        member.active = active
        uow.session.add(member)
        event = "member.updated" if active else "member.deactivated"
        webhooks.emit(uow, org.id, event, event_data(member), now)
    return member


def set_opted_out(uow: UnitOfWork, org: Organisation, member_id: int, opted_out: bool) -> Member:
    """Record that the member does (not) want reminders and broadcasts."""
    assert org.id is not None
    member = members.get_member(uow, org.id, member_id)
    member.opted_out = opted_out
    uow.session.add(member)
    return member


def reset_pin(uow: UnitOfWork, org: Organisation, member_id: int) -> Member:
    """Clear the PIN and any lock; the member chooses a new PIN on next contact."""
    assert org.id is not None
    member = members.get_member(uow, org.id, member_id)
    pins.reset_pin(member)
    uow.session.add(member)
    return member


# -- CSV import ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    """1-based line number in the file, the header being line 1."""
    field: str | None
    message: str


class ImportRejected(Invalid):
    """At least one row is bad; nothing was imported. ``rows`` says what and where."""

    code = "import_rejected"

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(f"{len(rows)} row(s) have errors; nothing was imported")
        self.rows = rows


def parse_csv(text: str) -> list[dict[str, str]]:
    """Rows of a members CSV (header ``phone,name[,role,member_no,language,preferred_channel]``).

    Raises:
        Invalid: no header, unknown or missing columns, too many rows (``field="csv"``).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or []) if name is not None]
    if not header:
        raise Invalid("the CSV needs a header line: phone,name,...", field="csv")
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if unknown:
        raise Invalid(f"unknown column {unknown[0]!r}; use {', '.join(IMPORT_COLUMNS)}", field="csv")
    missing = [name for name in ("phone", "name") if name not in header]
    if missing:
        raise Invalid(f"missing column {missing[0]!r}", field="csv")
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    try:
        for raw in reader:
            if len(rows) >= MAX_IMPORT_ROWS:
                raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per import", field="csv")
            if None in raw:
                raise Invalid(f"line {reader.line_num} has more cells than the header", field="csv")
            rows.append({k: (v or "").strip() for k, v in raw.items() if k is not None})
    except csv.Error as exc:
        raise Invalid(f"unreadable CSV: {exc}", field="csv") from exc
    if not rows:
        raise Invalid("the CSV has no rows", field="csv")
    return rows


def import_rows(uow: UnitOfWork, org: Organisation, rows: list[dict[str, str]], now: datetime) -> list[Member]:
    """Add every row, or none: the caller commits only if this returns.

    Raises:
        ImportRejected: listing every bad row (the caller must roll back).
    """
    errors: list[RowError] = []
    added: list[Member] = []
    for line, row in enumerate(rows, start=2):
        try:
            role = Role(row.get("role") or Role.MEMBER)
        except ValueError:
            errors.append(RowError(line, "role", "role is member, agent or officer"))
            continue
        try:
            # add() checks everything before it writes, so a refused row leaves nothing behind.
            added.append(
                add(
                    uow,
                    org,
                    phone=row.get("phone", ""),
                    name=row.get("name", ""),
                    now=now,
                    role=role,
                    member_no=row.get("member_no") or None,
                    language=row.get("language") or None,
                    preferred_channel=row.get("preferred_channel") or None,
                )
            )
        except DomainError as exc:
            errors.append(RowError(line, exc.field, exc.message))
    if errors:
        raise ImportRejected(errors)
    return added
