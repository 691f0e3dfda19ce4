"""Domain events wait for the outer transaction: a SAVEPOINT released or rolled back inside it
(``ledger.account`` creates accounts in one) neither publishes nor drops them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.exc import IntegrityError

from core import events, ledger, orgs
from core.tables import AccountKind
from core.uow import UnitOfWork


class Ping:
    pass


@pytest.fixture
def seen() -> Iterator[list[object]]:
    received: list[object] = []
    events.bus.subscribe(Ping, received.append)
    yield received
    events.bus.unsubscribe(Ping, received.append)


def test_savepoint_release_does_not_publish_early(any_db: DbEngine, seen: list[object]) -> None:
    with UnitOfWork(any_db) as uow:
        org = orgs.create_org(uow, "Acme", slug="acme")
        events.publish_after_commit(uow, Ping())
        ledger.account(uow, org.id, AccountKind.SUSPENSE)  # a savepoint, released
        assert seen == []
        uow.commit()
    assert len(seen) == 1


def test_savepoint_rollback_keeps_the_outer_events(any_db: DbEngine, seen: list[object]) -> None:
    with UnitOfWork(any_db) as uow:
        events.publish_after_commit(uow, Ping())
        with pytest.raises(IntegrityError), uow.session.begin_nested():
            raise IntegrityError("INSERT", {}, Exception("duplicate"))
        uow.commit()
    assert len(seen) == 1


def test_outer_rollback_drops_events(any_db: DbEngine, seen: list[object]) -> None:
    with UnitOfWork(any_db) as uow:
        orgs.create_org(uow, "Acme", slug="acme")
        events.publish_after_commit(uow, Ping())
        uow.rollback()
        uow.commit()
    assert seen == []
