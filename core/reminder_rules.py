"""Reminder rules: the defaults every organisation starts with, and rendering their templates.

The default texts are seed data for an admin-editable table (like the demo organisation), so
they live here in both languages rather than in the flows' string catalog.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from core.errors import Invalid
from core.money import format_amount
from core.tables import Organisation, ReminderRule, TargetKind
from core.uow import UnitOfWork

VARIABLES = frozenset({"name", "amount", "due_date", "reference", "org"})


@dataclass(frozen=True, slots=True)
class DefaultRule:
    target: TargetKind
    offset_days: int
    en: str
    sw: str
    repeat_every_days: int | None = None
    max_repeats: int = 0
    pay_now: bool = True


_LOAN = TargetKind.LOAN_INSTALLMENT
_CONTRIBUTION = TargetKind.CONTRIBUTION
_COLLECTION = TargetKind.COLLECTION

DEFAULTS: tuple[DefaultRule, ...] = (
    DefaultRule(
        _LOAN,
        -3,
        "Hello {name}, your {org} loan installment of {amount} ({reference}) is due on {due_date}.",
        "Habari {name}, rejesho la mkopo wako wa {org} la {amount} ({reference}) linadaiwa tarehe {due_date}.",
    ),
    DefaultRule(
        _LOAN,
        0,
        "{name}, your {org} loan installment of {amount} ({reference}) is due on {due_date}, today.",
        "{name}, rejesho la mkopo wako wa {org} la {amount} ({reference}) linadaiwa leo, {due_date}.",
    ),
    DefaultRule(
        _LOAN,
        1,
        "{name}, your {org} loan installment of {amount} ({reference}) was due on {due_date} and is overdue.",
        "{name}, rejesho la mkopo wako wa {org} la {amount} ({reference}) lilidaiwa {due_date} na limechelewa.",
    ),
    DefaultRule(
        _LOAN,
        7,
        "{name}, your {org} loan installment of {amount} ({reference}) has been overdue since {due_date}. "
        "Please pay or call the office.",
        "{name}, rejesho la mkopo wako wa {org} la {amount} ({reference}) limechelewa tangu {due_date}. "
        "Tafadhali lipa au piga simu ofisini.",
        repeat_every_days=7,
        max_repeats=4,
    ),
    DefaultRule(
        _CONTRIBUTION,
        -3,
        "Hello {name}, your {org} contribution of {amount} for {reference} is due on {due_date}.",
        "Habari {name}, mchango wako wa {org} wa {amount} kwa {reference} unadaiwa tarehe {due_date}.",
    ),
    DefaultRule(
        _CONTRIBUTION,
        0,
        "{name}, your {org} contribution of {amount} for {reference} is due on {due_date}, today.",
        "{name}, mchango wako wa {org} wa {amount} kwa {reference} unadaiwa leo, {due_date}.",
    ),
    DefaultRule(
        _CONTRIBUTION,
        3,
        "{name}, your {org} contribution of {amount} for {reference} was due on {due_date} and is still unpaid.",
        "{name}, mchango wako wa {org} wa {amount} kwa {reference} ulidaiwa {due_date} na bado haujalipwa.",
    ),
    DefaultRule(
        _COLLECTION,
        -1,
        "{name}, collection {reference} of {amount} to {org} is due on {due_date}.",
        "{name}, malipo {reference} ya {amount} kwa {org} yanadaiwa tarehe {due_date}.",
    ),
    DefaultRule(
        _COLLECTION,
        0,
        "{name}, collection {reference} of {amount} to {org} is due on {due_date}, today.",
        "{name}, malipo {reference} ya {amount} kwa {org} yanadaiwa leo, {due_date}.",
    ),
    DefaultRule(
        _COLLECTION,
        1,
        "{name}, collection {reference} of {amount} to {org} was due on {due_date} and is overdue.",
        "{name}, malipo {reference} ya {amount} kwa {org} yalidaiwa {due_date} na yamechelewa.",
    ),
)


def validate_template(text: str, field: str) -> None:
    """A template may use only the known variables and must be non-empty and well formed.

    Raises:
        Invalid: naming ``field``.
    """
    if not text.strip():
        raise Invalid("the template is empty", field=field)
    if len(text) > 480:
        raise Invalid("at most 480 characters", field=field)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise Invalid(f"badly formed template: {exc}", field=field) from None
    unknown = names - VARIABLES
    if unknown:
        raise Invalid(f"unknown variables {sorted(unknown)}; use {sorted(VARIABLES)}", field=field)


def validate_rule(rule: ReminderRule) -> None:
    if not -60 <= rule.offset_days <= 365:
        raise Invalid("offset_days between -60 and 365", field="offset_days")
    if rule.repeat_every_days is not None and not 1 <= rule.repeat_every_days <= 90:
        raise Invalid("repeat_every_days between 1 and 90", field="repeat_every_days")
    if not 0 <= rule.max_repeats <= 52 or (rule.max_repeats and rule.repeat_every_days is None):
        raise Invalid("max_repeats between 0 and 52, and only with repeat_every_days", field="max_repeats")
    validate_template(rule.template_en, "template_en")
    validate_template(rule.template_sw, "template_sw")


def seed_defaults(uow: UnitOfWork, org: Organisation) -> list[ReminderRule]:
    """Give ``org`` the default rules unless it has rules already; the caller commits."""
    assert org.id is not None
    existing = list(uow.session.exec(select(ReminderRule).where(ReminderRule.org_id == org.id)))
    if existing:
        return existing
    rules = [
        ReminderRule(
            org_id=org.id,
            target=d.target,
            offset_days=d.offset_days,
            repeat_every_days=d.repeat_every_days,
            max_repeats=d.max_repeats,
            template_en=d.en,
            template_sw=d.sw,
            pay_now=d.pay_now,
        )
        for d in DEFAULTS
    ]
    uow.session.add_all(rules)
    uow.session.flush()
    return rules


def active_rules(uow: UnitOfWork, org_id: int) -> list[ReminderRule]:
    return list(
        uow.session.exec(
            select(ReminderRule)
            .where(ReminderRule.org_id == org_id, col(ReminderRule.active).is_(True))
            .order_by(col(ReminderRule.id))
        )
    )


def firing_dates(rule: ReminderRule, today: date) -> list[tuple[date, int]]:
    """The ``(due_date, occurrence)`` pairs for which ``rule`` fires on ``today``."""
    from datetime import timedelta

    pairs = [(today - timedelta(days=rule.offset_days), 0)]
    if rule.repeat_every_days:
        for k in range(1, rule.max_repeats + 1):
            pairs.append((today - timedelta(days=rule.offset_days + k * rule.repeat_every_days), k))
    return pairs


def template_of(rule: ReminderRule, lang: str) -> str:
    return rule.template_sw if lang == "sw" else rule.template_en


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill a template; an unknown variable stays visible rather than failing a whole run."""
    return template.format_map(_Values(values))


def values(*, name: str, amount: int, currency: str, due_date: date, reference: str, org: str) -> dict[str, str]:
    return {
        "name": name.split()[0] if name.strip() else name,
        "amount": format_amount(amount, currency),
        "due_date": f"{due_date:%d/%m/%Y}",
        "reference": reference,
        "org": org,
    }
