"""Two schedulers at once, against real PostgreSQL and Redis (RQ): nothing is planned or sent twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import func, select

from bot.delivery import Delivery, DeliveryConfig
from bot.jobs import reminders as jobs
from bot.jobs.queue import RqQueue
from bot.settings import Settings
from core.clock import FixedClock
from core.tables import DeliveryState, Reminder
from tests.conftest import make_container
from tests.reminders_support import DUE, FakeSenders, local, setup_borrower

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 40


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001  (handed to the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def test_two_planners_and_dispatchers_at_once_send_each_reminder_once(
    pg_db: DbEngine, redis_client: Any, settings: Settings, clock: FixedClock
) -> None:
    # Every test using the fixture flushes its database; parallel runs would empty our queue midway.
    kwargs = redis_client.connection_pool.connection_kwargs
    own = redis.Redis(host=kwargs.get("host", "127.0.0.1"), port=kwargs.get("port", 6379), db=13, socket_timeout=5)
    queue = Queue(f"jumbe-reminders-{uuid.uuid4().hex[:8]}", connection=own)
    redis_client = own
    container = make_container(pg_db, settings, clock, queue=RqQueue(queue))
    fakes = FakeSenders(whatsapp_enabled=False)
    container.services["delivery"] = Delivery(
        container.uow, clock, container.queue, fakes, config=DeliveryConfig(rates={}, batch_size=7)
    )
    for i in range(MEMBERS):
        setup_borrower(pg_db, phone=f"+2547110002{i:02d}")
    clock.at = local(DUE, 9)

    for _ in range(3):  # the same cron tick fired by two schedulers, three times over
        together(jobs.plan_reminders, jobs.plan_reminders)
    assert queue.count == -(-MEMBERS // 7)  # batches, not one job per message
    SimpleWorker([queue], connection=redis_client).work(burst=True)

    per_phone = Counter(s.to for s in fakes.sent)
    assert len(per_phone) == MEMBERS and set(per_phone.values()) == {1}
    with container.uow() as uow:
        assert uow.session.exec(select(func.count()).select_from(Reminder)).one() == MEMBERS
        states = Counter(str(r) for r in uow.session.exec(select(Reminder.state)))
    assert states == {DeliveryState.SENT: MEMBERS}
    # and a third run after the fact finds nothing to do
    together(jobs.plan_reminders, jobs.dispatch_reminders)
    SimpleWorker([queue], connection=redis_client).work(burst=True)
    assert len(fakes.sent) == MEMBERS
    queue.delete(delete_jobs=True)
