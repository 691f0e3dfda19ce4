"""The unit of work: one database transaction, committed explicitly, rolled back otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

    The ORM session is opened on first use, so a block that only reads through :meth:`cursor`
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

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A DB-API cursor, for hot read paths that skip SQLAlchemy's execution layer.

        On the session's connection (its transaction) once the session is in use; otherwise on
        a connection borrowed from the pool for the cursor's lifetime, and rolled back when
        returned, so only reads belong here.
        """
        if self._session is not None:
            raw = self._session.connection().connection
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        if not self._open:
            raise RuntimeError("UnitOfWork used outside its with-block")
        borrowed = self.engine.raw_connection()
        try:
            cursor = borrowed.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
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
