"""The officers' weekly summary, written in each language and sent as a broadcast to the officer role."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import col, select

from core import broadcasts, quiet_hours, summaries
from core.money import format_amount
from core.tables import Audience, Broadcast, Member, Organisation, Role
from core.uow import UnitOfWork, UowFactory
from flows.i18n import t

_logger = logging.getLogger(__name__)

MAX_NAMES = 10
"""Overdue members named in the message; the rest are counted."""


def render(summary: summaries.Summary, org: Organisation, lang: str) -> str:
    def amount(minor: int) -> str:
        return format_amount(minor, org.currency)

    lines = [
        t(lang, "reminders.summary_title", org=org.name, cycle=summary.cycle),
        t(
            lang,
            "reminders.summary_contributions",
            count=summary.contributions_count,
            total=amount(summary.contributions_total),
        ),
    ]
    if summary.overdue:
        lines.append(
            t(lang, "reminders.summary_overdue", count=len(summary.overdue), total=amount(summary.overdue_total))
        )
        for item in summary.overdue[:MAX_NAMES]:
            lines.append(
                t(
                    lang,
                    "reminders.summary_overdue_line",
                    name=item.name,
                    member_no=item.member_no,
                    amount=amount(item.amount),
                    since=f"{item.since:%d/%m}",
                )
            )
        if len(summary.overdue) > MAX_NAMES:
            lines.append(t(lang, "reminders.summary_more", count=len(summary.overdue) - MAX_NAMES))
    else:
        lines.append(t(lang, "reminders.summary_nobody_overdue"))
    lines.append(t(lang, "reminders.summary_outstanding", total=amount(summary.loans_outstanding)))
    return "\n".join(lines)


def _fit(text: str) -> str:
    return text if len(text) <= broadcasts.MAX_BODY else text[: broadcasts.MAX_BODY - 1] + "…"


def create_for(uow: UnitOfWork, org: Organisation, now: datetime) -> Broadcast | None:
    """This week's summary broadcast for ``org``'s officers, unless it exists or there are no officers."""
    today = quiet_hours.local_today(org, now)
    year, week, _ = today.isocalendar()
    tag = f"summary:{year}-W{week:02d}"
    exists = uow.session.exec(select(Broadcast).where(Broadcast.org_id == org.id, Broadcast.created_by == tag)).first()
    if exists is not None:
        return None
    officers = uow.session.exec(
        select(Member.id).where(Member.org_id == org.id, Member.role == Role.OFFICER, col(Member.active).is_(True))
    ).first()
    if officers is None:
        return None
    figures = summaries.weekly(uow, org, today)
    return broadcasts.create(
        uow,
        org,
        audience=Audience.ROLE,
        role=Role.OFFICER,
        body_en=_fit(render(figures, org, "en")),
        body_sw=_fit(render(figures, org, "sw")),
        created_by=tag,
        now=now,
    )


def create_all(uow_factory: UowFactory, now: datetime) -> int:
    made = 0
    with uow_factory() as uow:
        org_ids = [org_id for org_id in uow.session.exec(select(Organisation.id)) if org_id is not None]
    for org_id in org_ids:
        with uow_factory() as uow:
            org = uow.session.get(Organisation, org_id)
            if org is not None and create_for(uow, org, now) is not None:
                uow.commit()
                made += 1
    return made
