"""The composition root: the one place that picks real implementations and wires them.

``bootstrap(settings)`` builds a :class:`Container`; tests pass fakes for any part
(``bootstrap(settings, queue=SyncQueue(), clock=FixedClock(...))``).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from bot import agents, messaging, payment_service, reminder_services
from bot.engine import Engine, EngineSettings
from bot.jobs import webhooks as webhook_jobs
from bot.jobs.queue import InlineQueue, JobQueue, RqQueue
from bot.sessions import MemoryStore, RedisStore, SessionStore
from bot.settings import Settings
from core.clock import Clock, SystemClock
from core.uow import UnitOfWork, make_engine

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class Container:
    settings: Settings
    db: DbEngine
    store: SessionStore
    queue: JobQueue
    clock: Clock
    engine: Engine
    redis: Any = None
    services: dict[str, Any] = dataclasses.field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    def close(self) -> None:
        close = getattr(self.queue, "close", None)
        if callable(close):
            close()
        for service in list(self.services.values()):
            # Services that hold clients (HTTP pools) close them; the rest have no close().
            closer = getattr(service, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    _logger.exception("closing service %r failed", service)
        self.db.dispose()


_current: Container | None = None


def bootstrap(
    settings: Settings,
    *,
    db: DbEngine | None = None,
    store: SessionStore | None = None,
    queue: JobQueue | None = None,
    clock: Clock | None = None,
    redis_client: Any = None,
    engine_settings: EngineSettings | None = None,
    install: bool = True,
) -> Container:
    """Build everything from ``settings``; ``install`` makes it the process's container for jobs."""
    global _current
    db = db or make_engine(settings.database_url)
    clock = clock or SystemClock()
    if redis_client is None and settings.redis_url:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, health_check_interval=30)
    if store is None:
        store = RedisStore(redis_client) if redis_client is not None else MemoryStore()
    if queue is None:
        if redis_client is not None:
            from rq import Queue

            queue = RqQueue(Queue(settings.queue_name, connection=redis_client))
        else:
            queue = InlineQueue()
    services: dict[str, Any] = {}
    engine = Engine(lambda: UnitOfWork(db), store, clock, services=services, settings=engine_settings)
    container = Container(
        settings=settings,
        db=db,
        store=store,
        queue=queue,
        clock=clock,
        engine=engine,
        redis=redis_client,
        services=services,
    )
    messaging.install(container)
    payment_service.install(container)
    reminder_services.install(container)
    agents.wire(container.uow, services, queue)
    webhook_jobs.install(container)
    if install:
        _current = container
    return container


def current() -> Container:
    """The process's container; RQ workers build it from the environment on first use."""
    global _current
    if _current is None:
        from bot.settings import load

        _current = bootstrap(load())
    return _current
