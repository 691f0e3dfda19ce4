"""When the periodic jobs run: RQ cron in production (``jumbe scheduler``), a timer thread when embedded.

* the planner every hour at :05 UTC: idempotent, and each organisation plans its own local today,
  so whichever time zone it is in, its reminders exist soon after its midnight;
* the dispatcher every minute: sends what the quiet hours held back and what retries scheduled;
* the officers' summary on Mondays at 06:00 UTC (09:00 in Nairobi).

Two ``jumbe scheduler`` processes at once are harmless (the planner and the dispatcher are safe
to run concurrently), only wasteful.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.jobs import reminders as jobs

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Periodic:
    func: Callable[..., Any]
    cron: str | None = None
    interval: int | None = None


SCHEDULE = (
    Periodic(jobs.plan_reminders, cron="5 * * * *"),
    Periodic(jobs.dispatch_reminders, interval=60),
    Periodic(jobs.send_officer_summaries, cron="0 6 * * 1"),
)


def register(cron_scheduler: Any, queue_name: str) -> None:
    """Register :data:`SCHEDULE` with an ``rq.cron.CronScheduler``."""
    for item in SCHEDULE:
        cron_scheduler.register(
            item.func, queue_name, cron=item.cron, interval=item.interval, job_timeout=1800, result_ttl=86_400
        )


def run_rq(redis_client: Any, queue_name: str) -> None:
    """Run the RQ cron scheduler until stopped (SIGINT / SIGTERM)."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=redis_client, name=f"jumbe-{queue_name}")
    register(scheduler, queue_name)
    scheduler.start()  # type: ignore[no-untyped-call]


def due(item: Periodic, last: datetime | None, now: datetime) -> bool:
    """Whether an embedded timer should run ``item`` at ``now`` (checked about once a minute)."""
    if item.interval is not None:
        return last is None or (now - last).total_seconds() >= item.interval - 1
    assert item.cron is not None
    minute, hour, _, _, weekday = item.cron.split()
    if last is not None and (now - last).total_seconds() < 60:
        return False
    if int(minute) != now.minute:
        return False
    if hour != "*" and int(hour) != now.hour:
        return False
    return weekday == "*" or int(weekday) % 7 == (now.isoweekday() % 7)


class EmbeddedScheduler:
    """A daemon thread that runs :data:`SCHEDULE` in the web process (embedded mode, no Redis)."""

    def __init__(self, clock: Any, tick: float = 20.0) -> None:
        self.clock = clock
        self.tick = tick
        self.last: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jumbe-scheduler", daemon=True)

    def start(self) -> EmbeddedScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def run_due(self) -> list[str]:
        """Run whatever is due now; returns the names run (one failing job does not stop the rest)."""
        now = self.clock.now().replace(second=0, microsecond=0)
        ran = []
        for item in SCHEDULE:
            name = item.func.__name__
            if not due(item, self.last.get(name), now):
                continue
            self.last[name] = now
            try:
                item.func()
                ran.append(name)
            except Exception:
                _logger.exception("scheduled job %s failed", name)
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.run_due()
