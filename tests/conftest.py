"""Shared fixtures: a migrated database, a container wired with fakes, the demo organisation.

Real servers: ``JUMBE_TEST_POSTGRES_URL`` and ``JUMBE_TEST_REDIS_URL`` point at them. Without
them the tests that need them skip with a message, except when ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import SQLModel
from starlette.testclient import TestClient

import core.tables  # noqa: F401
from bot import demo
from bot.bootstrap import Container, bootstrap
from bot.jobs.queue import SyncQueue
from bot.sessions import MemoryStore, RedisStore
from bot.settings import Settings
from core.clock import FixedClock
from core.tables import Organisation
from core.uow import UnitOfWork, make_engine

CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_SERVER = os.environ.get("JUMBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"jumbe_test_{os.getpid()}"
# Each test process works in its own schema, so parallel runs on one server do not collide.
POSTGRES_URL = f"{POSTGRES_SERVER}{'&' if '?' in POSTGRES_SERVER else '?'}options=-csearch_path%3D{PG_SCHEMA}"
REDIS_URL = os.environ.get("JUMBE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # a Sunday morning in Nairobi (12:30 EAT)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No JUMBE_* setting from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("JUMBE_") and not name.startswith("JUMBE_TEST_"):
            monkeypatch.delenv(name)


def unavailable(what: str, reason: str) -> None:
    message = f"{what} is not reachable ({reason}); set it up or unset CI to skip"
    if CI:
        pytest.fail(message)
    pytest.skip(message)


def postgres_engine() -> DbEngine:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        unavailable(f"PostgreSQL at {POSTGRES_SERVER}", type(exc).__name__)
    return engine


def empty_schema(engine: DbEngine) -> None:
    """Drop and recreate this process's PostgreSQL schema."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))


def fresh_schema(engine: DbEngine) -> None:
    """Every table, empty."""
    if engine.dialect.name == "postgresql":
        empty_schema(engine)
    SQLModel.metadata.create_all(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[DbEngine]:
    """The same test on SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/test.db")
    else:
        engine = postgres_engine()
    fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(tmp_path: Any) -> Iterator[DbEngine]:
    engine = make_engine(f"sqlite:///{tmp_path}/test.db")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_db() -> Iterator[DbEngine]:
    engine = postgres_engine()
    fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        unavailable(f"Redis at {REDIS_URL}", type(exc).__name__)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite:///unused.db", public_url="http://testserver")


def make_container(db: DbEngine, settings: Settings, clock: FixedClock, **parts: Any) -> Container:
    parts.setdefault("store", MemoryStore())
    parts.setdefault("queue", SyncQueue())
    return bootstrap(settings, db=db, clock=clock, install=True, **parts)


@pytest.fixture(params=["embedded", pytest.param("production", marks=[pytest.mark.postgres, pytest.mark.redis])])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[DbEngine, Any]]:
    """The deployment shapes every app-level test runs on: SQLite + memory, PostgreSQL + Redis."""
    yield from deployment(request, tmp_path)


def deployment(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[DbEngine, Any]]:
    """Database and session store for ``request.param``: "embedded" or "production"."""
    if request.param == "embedded":
        engine = make_engine(f"sqlite:///{tmp_path}/app.db")
        SQLModel.metadata.create_all(engine)
        yield engine, MemoryStore()
    else:
        engine = postgres_engine()
        fresh_schema(engine)
        yield engine, RedisStore(request.getfixturevalue("redis_client"), prefix=f"t{uuid.uuid4().hex[:8]}")
    engine.dispose()


@pytest.fixture
def container(backend: tuple[DbEngine, Any], settings: Settings, clock: FixedClock) -> Container:
    db, store = backend
    return make_container(db, settings, clock, store=store)


@pytest.fixture
def demo_org(container: Container, clock: FixedClock) -> Organisation:
    with UnitOfWork(container.db) as uow:
        return demo.seed(uow, clock)


@pytest.fixture
def client(container: Container, demo_org: Organisation) -> Iterator[TestClient]:
    from bot.app import create_app

    with TestClient(create_app(container)) as test_client:
        yield test_client


class UssdPhone:
    """Drives USSD sessions the way Africa's Talking does: cumulative text, one session id per dial."""

    def __init__(self, client: TestClient, phone: str = demo.MEMBER_PHONE, code: str = demo.USSD_CODE) -> None:
        self.client = client
        self.phone = phone
        self.code = code
        self.session = ""
        self.inputs: list[str] = []

    def dial(self) -> str:
        self.session = f"ATUid_{uuid.uuid4().hex}"
        self.inputs = []
        return self._post("")

    def send(self, text: str) -> str:
        self.inputs.append(text)
        return self._post("*".join(self.inputs))

    def _post(self, text: str) -> str:
        response = self.client.post(
            "/channels/africastalking/ussd",
            data={
                "sessionId": self.session,
                "serviceCode": self.code,
                "phoneNumber": self.phone,
                "text": text,
                "networkCode": "63902",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= 182, (len(body), body)
        return body


@pytest.fixture
def phone(client: TestClient) -> UssdPhone:
    return UssdPhone(client)


@pytest.fixture
def redis_store(redis_client: Any) -> RedisStore:
    return RedisStore(redis_client, prefix=f"test{uuid.uuid4().hex[:6]}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave the shared PostgreSQL server as we found it."""
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        engine.dispose()
    except Exception:  # no server, nothing to clean
        pass
