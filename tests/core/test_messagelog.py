"""The message log and contacts on SQLite and PostgreSQL: forward-only statuses, paging, the window."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine as DbEngine

from channels.base import STATUS_RANK
from core import contacts, messagelog, orgs
from core.errors import Invalid
from core.tables import Direction, MessageStatus
from core.uow import UnitOfWork
from tests.conftest import NOW

PHONE = "+254700000001"


def _org(db: DbEngine) -> int:
    with UnitOfWork(db) as uow:
        org = orgs.create_org(uow, "Log SACCO")
        uow.commit()
        assert org.id is not None
        return org.id


def _sent(db: DbEngine, org_id: int, wamid: str) -> int:
    with UnitOfWork(db) as uow:
        row = messagelog.record_outbound(
            uow,
            org_id=org_id,
            member_id=None,
            phone=PHONE,
            channel="whatsapp",
            provider="whatsapp",
            kind="text",
            purpose="reply",
            content="hello",
            at=NOW,
        )
        assert row.id is not None
        messagelog.mark_sent(uow, row.id, wamid, "sent", NOW)
        uow.commit()
        return row.id


def _status(db: DbEngine, wamid: str, status: str, code: str | None = None) -> bool:
    with UnitOfWork(db) as uow:
        moved = messagelog.apply_status(
            uow,
            provider="whatsapp",
            provider_message_id=wamid,
            status=status,
            rank=STATUS_RANK,
            at=NOW,
            error_code=code,
        )
        uow.commit()
        return moved is not None


def _row(db: DbEngine, org_id: int, row_id: int) -> messagelog.MessageLog:
    with UnitOfWork(db) as uow:
        return messagelog.get_message(uow, org_id, row_id)


def test_statuses_only_move_forward_whatever_the_order(any_db: DbEngine) -> None:
    org_id = _org(any_db)
    orders = list(itertools.permutations(["sent", "delivered", "read"]))
    for number, order in enumerate(orders):
        row_id = _sent(any_db, org_id, f"wamid.{number}")
        for status in order:
            _status(any_db, f"wamid.{number}", status)
        row = _row(any_db, org_id, row_id)
        assert row.status == MessageStatus.READ, order
        assert row.read_at is not None and row.delivered_at is not None


def test_failed_is_final_and_keeps_the_code(any_db: DbEngine) -> None:
    org_id = _org(any_db)
    row_id = _sent(any_db, org_id, "wamid.f")
    assert _status(any_db, "wamid.f", "failed", "131026")
    assert not _status(any_db, "wamid.f", "failed", "131047")
    assert not _status(any_db, "wamid.f", "delivered")
    row = _row(any_db, org_id, row_id)
    assert (row.status, row.error_code) == (MessageStatus.FAILED, "131026")


def test_unknown_ids_and_statuses(any_db: DbEngine) -> None:
    assert not _status(any_db, "wamid.nobody", "read")
    with pytest.raises(Invalid):
        _status(any_db, "wamid.nobody", "exploded")


def test_an_inbound_id_is_recorded_once(any_db: DbEngine) -> None:
    org_id = _org(any_db)

    def record() -> bool:
        with UnitOfWork(any_db) as uow:
            row = messagelog.record_inbound(
                uow,
                org_id=org_id,
                member_id=None,
                phone=PHONE,
                channel="sms",
                provider="twilio",
                provider_message_id="SM1",
                kind="sms",
                at=NOW,
            )
            uow.commit()
            return row is not None

    assert record()
    assert not record()


def test_list_messages_pages_newest_first_with_filters(any_db: DbEngine) -> None:
    org_id = _org(any_db)
    ids = [_sent(any_db, org_id, f"wamid.p{i}") for i in range(5)]
    with UnitOfWork(any_db) as uow:
        messagelog.record_inbound(
            uow,
            org_id=org_id,
            member_id=None,
            phone="+254700000009",
            channel="sms",
            provider="africastalking",
            provider_message_id="at-1",
            kind="sms",
            at=NOW,
        )
        uow.commit()
    with UnitOfWork(any_db) as uow:
        first = messagelog.list_messages(uow, org_id, limit=2, filters=messagelog.MessageFilter(direction="out"))
        assert [r.id for r in first.items] == ids[:-3:-1]
        second = messagelog.list_messages(uow, org_id, first.next_cursor, 2, messagelog.MessageFilter(direction="out"))
        third = messagelog.list_messages(uow, org_id, second.next_cursor, 2, messagelog.MessageFilter(direction="out"))
        assert [r.id for r in second.items + third.items] == ids[2::-1]
        assert third.next_cursor is None
        inbound = messagelog.list_messages(uow, org_id, filters=messagelog.MessageFilter(phone="+254700000009"))
        assert [(r.direction, r.status) for r in inbound.items] == [(Direction.IN, MessageStatus.RECEIVED)]
        since = messagelog.MessageFilter(since=NOW - timedelta(minutes=1), until=NOW + timedelta(minutes=1))
        assert len(messagelog.list_messages(uow, org_id, filters=since).items) == 6
        assert messagelog.list_messages(uow, org_id + 1).items == []
        for bad in (messagelog.MessageFilter(direction="sideways"), messagelog.MessageFilter(status="lost")):
            with pytest.raises(Invalid):
                messagelog.list_messages(uow, org_id, filters=bad)
        with pytest.raises(Invalid) as error:
            messagelog.list_messages(uow, org_id, limit=0)
        assert error.value.field == "limit"


def test_contacts_window_moves_forward_only(any_db: DbEngine) -> None:
    org_id = _org(any_db)

    def touch(at_hours_ago: float, binding: str) -> None:
        with UnitOfWork(any_db) as uow:
            contacts.touch(
                uow,
                org_id,
                PHONE,
                "whatsapp",
                NOW - timedelta(hours=at_hours_ago),
                provider="whatsapp",
                binding=binding,
            )
            uow.commit()

    with UnitOfWork(any_db) as uow:
        assert not contacts.whatsapp_window_open(uow, org_id, PHONE, NOW)
    touch(30, "old")
    with UnitOfWork(any_db) as uow:
        assert not contacts.whatsapp_window_open(uow, org_id, PHONE, NOW)
    touch(2, "new")
    touch(40, "redelivered")  # a late, redelivered message does not move the window back
    with UnitOfWork(any_db) as uow:
        assert contacts.whatsapp_window_open(uow, org_id, PHONE, NOW)
        assert not contacts.whatsapp_window_open(uow, org_id, PHONE, NOW + timedelta(hours=22, minutes=1))
        assert contacts.last_inbound(uow, org_id, PHONE, "whatsapp") == NOW - timedelta(hours=2)
        found = contacts.find(uow, org_id, PHONE, "whatsapp")
        assert found is not None and found.binding == "new"
        assert not contacts.whatsapp_window_open(uow, org_id, "+254700000002", NOW)
        assert contacts.last_inbound(uow, org_id, PHONE, "sms") is None
