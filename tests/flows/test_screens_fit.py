"""Every screen of every flow in every language fits every channel's limits."""

from __future__ import annotations

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from bot.bootstrap import Container
from bot.labels import nav_labels
from channels import ussd
from core.clock import FixedClock
from core.tables import Member, Organisation
from core.uow import UnitOfWork
from flows.messages import Menu
from tests.flows.screens import all_screens


def _people(db: DbEngine, org: Organisation) -> list[Member]:
    with UnitOfWork(db) as uow:
        return list(uow.session.exec(select(Member).where(Member.org_id == org.id)))


def test_every_screen_fits_ussd(container: Container, demo_org: Organisation, clock: FixedClock) -> None:
    db = container.db
    renderer = ussd.UssdRenderer(nav_labels)
    checked = 0
    for label, screen in all_screens(db, demo_org, _people(db, demo_org), clock):
        for can_go_back in (False, True):
            pages = (
                renderer.page_count(screen, "sw" if "[sw" in label else "en", can_go_back)
                if isinstance(screen, Menu)
                else 1
            )
            for page in range(pages):
                lang = "sw" if "[sw" in label else "en"
                body = renderer.render([screen], page=page, lang=lang, can_go_back=can_go_back).body
                assert len(body) <= ussd.MAX_CHARS, f"{label} page {page}: {len(body)} chars\n{body}"
                assert not body.endswith("…"), f"{label} page {page} was cut:\n{body}"
                checked += 1
    assert checked > 20
