"""Every screen of every flow in every language fits WhatsApp's limits and SMS segments."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from bot.bootstrap import Container
from bot.labels import nav_labels
from channels import sms, whatsapp
from channels.whatsapp.render import (
    BUTTON_TITLE_LIMIT,
    INTERACTIVE_BODY_LIMIT,
    LIST_BUTTON_LIMIT,
    MAX_ROWS,
    ROW_DESCRIPTION_LIMIT,
    ROW_TITLE_LIMIT,
    TEXT_LIMIT,
)
from core.clock import FixedClock
from core.tables import Member, Organisation
from core.uow import UnitOfWork
from flows.messages import Menu, Message
from tests.flows.screens import all_screens

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

SMS_MAX_SEGMENTS = 2
"""Menus should take one segment; a screen that needs two is listed by the test (never more)."""


def _people(db: DbEngine, org: Organisation) -> list[Member]:
    with UnitOfWork(db) as uow:
        return list(uow.session.exec(select(Member).where(Member.org_id == org.id)))


def _screens(container: Container, org: Organisation, clock: FixedClock) -> list[tuple[str, str, Message]]:
    screens = all_screens(container.db, org, _people(container.db, org), clock)
    return [(label, "sw" if "[sw" in label else "en", screen) for label, screen in screens]


def test_every_screen_fits_whatsapp(container: Container, demo_org: Organisation, clock: FixedClock) -> None:
    checked = 0
    for label, lang, screen in _screens(container, demo_org, clock):
        pages = whatsapp.page_count(screen) if isinstance(screen, Menu) else 1
        for page in range(pages):
            for body in whatsapp.render([screen], "254700000001", labels=nav_labels(lang), page=page):
                where = f"{label} page {page}"
                if body["type"] == "text":
                    assert len(body["text"]["body"]) <= TEXT_LIMIT, where
                    continue
                interactive = body["interactive"]
                assert len(interactive["body"]["text"]) <= INTERACTIVE_BODY_LIMIT, where
                assert isinstance(screen, Menu)
                assert interactive["body"]["text"] == (screen.title.strip() or nav_labels(lang)["choose"]), where
                action = interactive["action"]
                for button in action.get("buttons", []):
                    title = button["reply"]["title"]
                    assert len(title) <= BUTTON_TITLE_LIMIT and not title.endswith("…"), f"{where}: {title!r}"
                if "sections" in action:
                    assert len(action["button"]) <= LIST_BUTTON_LIMIT, where
                    rows = [row for section in action["sections"] for row in section["rows"]]
                    assert len(rows) <= MAX_ROWS, where
                    for row in rows:
                        assert len(row["title"]) <= ROW_TITLE_LIMIT, f"{where}: {row['title']!r}"
                        assert not row["title"].endswith("…"), f"{where}: row title cut: {row['title']!r}"
                        assert len(row.get("description", "")) <= ROW_DESCRIPTION_LIMIT, where
                        assert not row.get("description", "").endswith("…"), f"{where}: description cut"
                checked += 1
    assert checked > 20


def test_every_screen_fits_sms(container: Container, demo_org: Organisation, clock: FixedClock) -> None:
    two_segments: set[str] = set()
    checked = 0
    for label, lang, screen in _screens(container, demo_org, clock):
        labels = nav_labels(lang)
        pages = sms.page_count(screen, labels) if isinstance(screen, Menu) else 1
        for page in range(pages):
            body = sms.render_sms([screen], labels=labels, page=page)
            parts = sms.segments(body)
            assert 1 <= parts <= SMS_MAX_SEGMENTS, (
                f"{label} page {page}: {parts} segments ({sms.encoding(body)})\n{body}"
            )
            if parts > 1:
                two_segments.add(label.split("[")[0] + f"[{lang}]")
            if isinstance(screen, Menu) and screen.options:
                assert body.rstrip().endswith(labels["reply_with"]), f"{label}: no 'reply with a number'"
            checked += 1
    assert checked > 20
    # Screens that need two segments (long texts, not menus that could be paged); reported, kept small.
    print("SMS screens of two segments:", sorted(two_segments))
    assert len(two_segments) <= 10, sorted(two_segments)
