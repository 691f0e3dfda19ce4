"""The unit of work: a lazy ORM session, and raw DB-API reads for hot paths."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine as DbEngine

from core import orgs
from core.uow import UnitOfWork


def test_a_block_that_only_reads_through_fetch_opens_no_session(any_db: DbEngine) -> None:
    with UnitOfWork(any_db) as uow:
        assert uow.fetch(("SELECT 1", {}), ("SELECT %(n)s", {"n": 2})) == [[(1,)], [(2,)]]
        assert uow._session is None


def test_fetch_sees_the_sessions_uncommitted_writes(any_db: DbEngine) -> None:
    with UnitOfWork(any_db) as uow:
        orgs.create_org(uow, "Uncommitted Chama", slug="uncommitted")
        uow.flush()
        names = uow.fetch(("SELECT name FROM organisation WHERE slug = %(slug)s", {"slug": "uncommitted"}))
        assert names == [[("Uncommitted Chama",)]]
    with UnitOfWork(any_db) as uow:  # never committed
        counts = uow.fetch(("SELECT count(*) FROM organisation WHERE slug = %(slug)s", {"slug": "uncommitted"}))
        assert counts == [[(0,)]]


def test_connections_lent_to_fetch_go_back_transactional(any_db: DbEngine) -> None:
    """A read outside a transaction must not leave its pooled connection in autocommit: the next
    unit of work on that connection still rolls back what it did not commit."""
    for round_ in range(3):
        with UnitOfWork(any_db) as uow:
            uow.fetch(("SELECT 1", {}))
        with UnitOfWork(any_db) as uow:
            orgs.create_org(uow, f"Never Saved {round_}", slug=f"never-{round_}")
            uow.flush()
        with any_db.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM organisation WHERE slug = 'never-{round_}'")).scalar() == 0


def test_fetch_outside_the_block_is_refused(any_db: DbEngine) -> None:
    uow = UnitOfWork(any_db)
    with pytest.raises(RuntimeError):
        uow.fetch(("SELECT 1", {}))
