"""Organisations and the channel addresses that lead to them."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import select

from core import reminder_rules
from core.errors import Conflict, Invalid, NotFound
from core.tables import BindingKind, ChannelBinding, Organisation
from core.uow import UnitOfWork

CATCH_ALL = "*"
_SLUG = re.compile(r"[^a-z0-9]+")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def slugify(name: str) -> str:
    slug = _SLUG.sub("-", name.lower()).strip("-")[:40]
    if not slug:
        raise Invalid("the name needs letters or digits", field="name")
    return slug


def validate(org: Organisation) -> None:
    try:
        ZoneInfo(org.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Africa" is a directory: OSError
        raise Invalid(f"unknown time zone {org.timezone!r}", field="timezone") from exc
    for field in ("quiet_start", "quiet_end"):
        if not _HHMM.match(getattr(org, field)):
            raise Invalid("use HH:MM, 24-hour", field=field)
    if org.default_language not in ("en", "sw"):
        raise Invalid("language is en or sw", field="default_language")
    if len(org.currency) != 3 or not org.currency.isalpha():
        raise Invalid("an ISO 4217 code such as KES", field="currency")
    if org.min_payment <= 0 or org.max_payment < org.min_payment:
        raise Invalid("need 0 < min_payment <= max_payment", field="max_payment")


def create_org(uow: UnitOfWork, name: str, *, slug: str | None = None, **fields: object) -> Organisation:
    slug = slug or slugify(name)
    if uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first():
        raise Conflict(f"an organisation with slug {slug!r} exists", field="slug")
    org = Organisation(name=name.strip(), slug=slug, **fields)  # type: ignore[arg-type]
    validate(org)
    uow.session.add(org)
    uow.session.flush()
    reminder_rules.seed_defaults(uow, org)
    return org


def get_org(uow: UnitOfWork, slug: str) -> Organisation:
    org = uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise NotFound(f"no organisation {slug!r}", field="org")
    return org


def bind(uow: UnitOfWork, org: Organisation, kind: BindingKind, address: str) -> ChannelBinding:
    existing = uow.session.exec(
        select(ChannelBinding).where(ChannelBinding.kind == kind, ChannelBinding.address == address)
    ).first()
    if existing is not None:
        if existing.org_id != org.id:
            raise Conflict(f"{kind} {address} is bound to another organisation", field="address")
        return existing
    binding = ChannelBinding(org_id=org.id, kind=kind, address=address)  # type: ignore[arg-type]
    uow.session.add(binding)
    uow.session.flush()
    return binding


def resolve_binding(uow: UnitOfWork, kind: BindingKind, address: str) -> Organisation | None:
    """The organisation bound to ``address``, else the catch-all for that kind, else None."""
    rows = uow.session.exec(
        select(ChannelBinding, Organisation)
        .join(Organisation, Organisation.id == ChannelBinding.org_id)  # type: ignore[arg-type]
        .where(ChannelBinding.kind == kind, ChannelBinding.address.in_([address, CATCH_ALL]))  # type: ignore[attr-defined]
    ).all()
    exact = [org for binding, org in rows if binding.address == address]
    fallback = [org for binding, org in rows if binding.address == CATCH_ALL]
    candidates = exact or fallback
    return candidates[0] if candidates else None
