"""The unit of work: one database transaction, committed explicitly, rolled back otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, ``synchronous=NORMAL`` and a busy timeout.

    SQLite allows one writer at a time; ``BEGIN IMMEDIATE`` on write transactions would
    serialise them, but the busy timeout is enough at our write rates (see perf-notes).
    """
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class UnitOfWork:
    """``with uow: ...; uow.commit()``; leaving the block without commit rolls back.

    The ORM session is opened on first use, so a block that only reads through :meth:`fetch`
    never builds one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session: Session | None = None
        self._open = False

    @property
    def session(self) -> Session:
        if not self._open:
            raise RuntimeError("UnitOfWork used outside its with-block")
        if self._session is None:
            self._session = Session(self.engine, expire_on_commit=False)
        return self._session

    def fetch(self, *queries: tuple[str, Mapping[str, Any]]) -> list[list[Any]]:
        """Run independent read queries on the DB-API, skipping SQLAlchemy's execution layer (hot
        read paths), and return each one's rows.

        On the session's connection (its transaction) once the session is in use; otherwise on
        a connection borrowed from the pool, outside any transaction, so only reads belong here.
        Queries use ``%(name)s`` placeholders (SQLite gets them as ``:name``). On PostgreSQL they
        travel together in one round trip (psycopg's pipeline mode) instead of one each.
        """
        sqlite = self.dialect == "sqlite"
        with self._dbapi() as (connection, driver):
            pipeline = getattr(driver, "pipeline", None)
            if pipeline is None:
                cursor = connection.cursor()
                try:
                    return [_rows(cursor, _sqlite_style(sql) if sqlite else sql, params) for sql, params in queries]
                finally:
                    cursor.close()
            cursors = [connection.cursor() for _ in queries]
            try:
                with pipeline():
                    for cursor, (sql, params) in zip(cursors, queries, strict=True):
                        cursor.execute(sql, params)
                return [list(cursor.fetchall()) for cursor in cursors]
            finally:
                for cursor in cursors:
                    cursor.close()

    @contextmanager
    def _dbapi(self) -> Iterator[tuple[Any, Any]]:
        """The DB-API connection for raw reads and the driver's own connection object."""
        if self._session is not None:
            pooled = self._session.connection().connection
            yield pooled, pooled.driver_connection
            return
        if not self._open:
            raise RuntimeError("UnitOfWork used outside its with-block")
        borrowed = self.engine.raw_connection()
        driver = borrowed.driver_connection
        # psycopg would open a transaction for the reads (BEGIN) and the pool would end it
        # (ROLLBACK): two round trips of nothing. Reads outside a transaction see what each
        # statement sees inside one at READ COMMITTED. (sqlite3 starts none for a SELECT.)
        unwrapped = getattr(driver, "autocommit", None) is False
        if unwrapped:
            driver.autocommit = True  # type: ignore[union-attr]
        try:
            yield borrowed, driver
        finally:
            if unwrapped:
                try:
                    driver.autocommit = False  # type: ignore[union-attr]
                except Exception:
                    borrowed.invalidate()  # never pool a connection left outside transactions
                    raise
            borrowed.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed, and, unlike rollback(), leaves loaded
        # objects readable after the block (they are used as read-only snapshots).
        self._open = False
        if self._session is not None:
            self._session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()


UowFactory = Callable[[], UnitOfWork]

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _sqlite_style(statement: str) -> str:
    return _PLACEHOLDER.sub(r":\1", statement)


def _rows(cursor: Any, statement: str, params: Mapping[str, Any]) -> list[Any]:
    cursor.execute(statement, params)
    return list(cursor.fetchall())
