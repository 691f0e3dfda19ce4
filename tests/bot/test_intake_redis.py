"""The production intake on real Redis: one round trip de-duplicates and queues; a plain RQ worker runs it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy.engine import Engine as DbEngine
from starlette.testclient import TestClient

from bot import demo
from bot.app import create_app
from bot.bootstrap import Container
from bot.jobs.intake import RedisIntake
from bot.jobs.queue import RqQueue
from bot.sessions import RedisStore
from bot.settings import Settings
from core.clock import FixedClock
from core.tables import Direction
from core.uow import UnitOfWork, make_engine
from tests.bot.chat_support import FakeProviders, install_fakes, log_rows, post_whatsapp, wa_message, wa_webhook
from tests.conftest import make_container

pytestmark = pytest.mark.redis


@pytest.fixture
def db(tmp_path: Any) -> Iterator[DbEngine]:
    from sqlmodel import SQLModel

    engine = make_engine(f"sqlite:///{tmp_path}/intake.db")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def rq_container(db: DbEngine, settings: Settings, clock: FixedClock, redis_client: Any) -> Container:
    queue = Queue(f"test-{uuid.uuid4().hex[:8]}", connection=redis_client)
    container = make_container(
        db, settings, clock, store=RedisStore(redis_client, prefix="t"), queue=RqQueue(queue), redis_client=redis_client
    )
    with UnitOfWork(db) as uow:
        demo.seed(uow, clock)
    return container


@pytest.fixture
def fake(rq_container: Container) -> Iterator[FakeProviders]:
    yield from install_fakes(rq_container)


@pytest.fixture
def app_client(rq_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(rq_container)) as client:
        yield client


def _queue(container: Container) -> Queue:
    assert isinstance(container.queue, RqQueue)
    queue: Queue = container.queue.queue
    return queue


def _count_commands(container: Container, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    intake = container.services["intake"]
    assert isinstance(intake, RedisIntake)
    seen: list[str] = []
    client = intake.aio.current
    assert client is not None
    original = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        seen.append(str(args[0]))
        return await original(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    return seen


def test_acknowledge_is_one_round_trip_and_a_plain_worker_runs_the_job(
    rq_container: Container,
    app_client: TestClient,
    fake: FakeProviders,
    redis_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert post_whatsapp(app_client, wa_webhook(wa_message("Hi", msg_id="wamid.warm"))).status_code == 200
    commands = _count_commands(rq_container, monkeypatch)
    first = wa_message("Hi", msg_id="wamid.r1")
    response = post_whatsapp(app_client, wa_webhook(first, first))
    assert response.status_code == 200
    assert commands == ["EVALSHA"]
    queue = _queue(rq_container)
    assert queue.count == 2
    job = queue.jobs[-1]
    assert job.get_status() == "queued"
    assert job.func_name == "bot.jobs.inbound.process_whatsapp"
    assert job.description == "bot.jobs.inbound.process_whatsapp"  # no phone or text in RQ's logs
    assert queue.key.encode() in redis_client.smembers("rq:queues")
    assert fake.whatsapp_sent == []  # acknowledged, not processed
    SimpleWorker([queue], connection=redis_client).work(burst=True)
    assert queue.count == 0
    assert [row.provider_message_id for row in log_rows(rq_container, Direction.IN)] == ["wamid.warm", "wamid.r1"]
    assert fake.whatsapp_sent and all(body["to"] == "254700000001" for body in fake.whatsapp_sent)


def test_duplicates_are_not_queued(
    rq_container: Container, app_client: TestClient, fake: FakeProviders, redis_client: Any
) -> None:
    message = wa_message("Hi", msg_id="wamid.dup")
    payload = wa_webhook(message, message)
    for _ in range(3):
        assert post_whatsapp(app_client, payload).status_code == 200
    queue = _queue(rq_container)
    assert queue.count == 1
    SimpleWorker([queue], connection=redis_client).work(burst=True)
    assert len(fake.whatsapp_sent) == 1
    assert len(log_rows(rq_container, Direction.IN)) == 1


def test_a_job_answers_only_the_ids_it_won(
    rq_container: Container, app_client: TestClient, fake: FakeProviders, redis_client: Any
) -> None:
    old = wa_message("Hi", msg_id="wamid.a")
    post_whatsapp(app_client, wa_webhook(old))
    new = wa_message("Hi", msg_id="wamid.b", wa_id="254700000003")
    post_whatsapp(app_client, wa_webhook(old, new))  # one known id, one new: queued, for the new one only
    queue = _queue(rq_container)
    assert queue.count == 2
    SimpleWorker([queue], connection=redis_client).work(burst=True)
    assert sorted(body["to"] for body in fake.whatsapp_sent) == ["254700000001", "254700000003"]


def test_status_only_webhooks_are_queued_every_time(
    rq_container: Container, app_client: TestClient, redis_client: Any
) -> None:
    status = {"id": "wamid.OUT1", "status": "read", "timestamp": "1", "recipient_id": "254700000001"}
    for _ in range(2):
        assert post_whatsapp(app_client, wa_webhook(statuses=[status])).status_code == 200
    assert _queue(rq_container).count == 2
    assert post_whatsapp(app_client, wa_webhook()).status_code == 200  # nothing at all: nothing queued
    assert _queue(rq_container).count == 2


def test_sms_and_reports_go_through_the_same_intake(
    rq_container: Container, app_client: TestClient, fake: FakeProviders, redis_client: Any
) -> None:
    form = {"from": demo.MEMBER_PHONE, "to": "21512", "text": "HELP", "date": "2026-11-22 09:30:00", "id": "at-1"}
    for _ in range(2):
        assert app_client.post("/channels/africastalking/sms", data=form).status_code == 200
    report = {"id": "ATXid_x", "status": "Success"}
    assert app_client.post("/channels/africastalking/sms/delivery", data=report).status_code == 200
    queue = _queue(rq_container)
    assert queue.count == 2
    SimpleWorker([queue], connection=redis_client).work(burst=True)
    assert "BAL" in fake.at_sent[0]["message"]
    assert json.loads(json.dumps(fake.at_sent[0]))["to"] == demo.MEMBER_PHONE


def test_redis_down_answers_503_so_meta_retries(rq_container: Container, app_client: TestClient) -> None:
    intake = rq_container.services["intake"]
    assert isinstance(intake, RedisIntake)
    intake.aio.reset("redis://127.0.0.1:1/0")
    response = post_whatsapp(app_client, wa_webhook(wa_message("Hi", msg_id="wamid.down")))
    assert response.status_code == 503


def test_the_job_hash_is_what_rq_itself_writes(redis_client: Any) -> None:
    """Field for field, the script writes the hash ``Queue.enqueue`` writes for the same call."""
    import asyncio
    import zlib

    from rq import Retry

    from bot.jobs import inbound
    from bot.jobs.intake import FAILURE_TTL, JOB_TIMEOUT, RETRY

    intake = RedisIntake(redis_client, "exact")

    async def accept() -> None:
        await intake.accept("t", ["m1"], inbound.process_whatsapp, b"body")
        await intake.aclose()

    asyncio.run(accept())
    queue = Queue("exact", connection=redis_client)
    (ours,) = queue.job_ids
    theirs = queue.enqueue(
        inbound.process_whatsapp,
        b"body",
        ours,
        None,
        job_id="rq-made",
        job_timeout=JOB_TIMEOUT,
        retry=Retry(max=RETRY.max, interval=list(RETRY.intervals)),
        failure_ttl=FAILURE_TTL,
        description="bot.jobs.inbound.process_whatsapp",
    )
    mine = redis_client.hgetall(f"rq:job:{ours}")
    rq_made = redis_client.hgetall(f"rq:job:{theirs.id}")
    assert set(mine) == set(rq_made)
    for field in set(mine) - {b"created_at", b"enqueued_at", b"data"}:
        assert mine[field] == rq_made[field], field
    assert zlib.decompress(mine[b"data"]) == zlib.decompress(rq_made[b"data"])
    assert mine[b"retries_left"] == b"3"
    assert queue.fetch_job(ours).args == (b"body", ours, None)  # type: ignore[union-attr]
    assert redis_client.get("jumbe:inbound:t:m1") == ours.encode()
