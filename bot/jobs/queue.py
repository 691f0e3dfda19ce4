"""Where jobs go: RQ when Redis is configured, an in-process runner when embedded.

Job functions are plain module-level functions taking ids and strings, so RQ can import them
by dotted path and the embedded runner can call them directly. Delays are honoured by both
(RQ's scheduler: ``rq worker --with-scheduler``; embedded: a timer thread).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

_logger = logging.getLogger(__name__)

Job = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Retry:
    """Try a failed job again ``max`` times, waiting ``intervals`` seconds (last one repeats)."""

    max: int = 3
    intervals: Sequence[int] = (10, 30, 60)

    def __post_init__(self) -> None:
        if self.max < 0 or not self.intervals or any(i < 0 for i in self.intervals):
            raise ValueError("Retry needs max >= 0 and non-negative intervals")

    def interval(self, attempt: int) -> int:
        return self.intervals[min(attempt, len(self.intervals) - 1)]


class JobQueue(Protocol):
    def enqueue(
        self, func: Job, *args: Any, delay: float = 0, retry: Retry | None = None, job_id: str | None = None
    ) -> None:
        """Run ``func(*args)`` in the background after ``delay`` seconds."""
        ...

    def enqueue_many(self, calls: Sequence[tuple[Job, tuple[Any, ...]]]) -> None:
        """Queue many calls in one go (one Redis round trip with RQ)."""
        ...


class RqQueue:
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def enqueue(
        self, func: Job, *args: Any, delay: float = 0, retry: Retry | None = None, job_id: str | None = None
    ) -> None:
        from rq import Retry as RqRetry

        options: dict[str, Any] = {"job_id": job_id, "failure_ttl": 7 * 86_400, "description": _describe(func)}
        if retry is not None:
            options["retry"] = RqRetry(max=retry.max, interval=list(retry.intervals))
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), func, *args, **options)
        else:
            self.queue.enqueue(func, *args, **options)

    def enqueue_many(self, calls: Sequence[tuple[Job, tuple[Any, ...]]]) -> None:
        from rq import Queue

        datas = [Queue.prepare_data(func, args=args, description=_describe(func)) for func, args in calls]
        self.queue.enqueue_many(datas)


def _describe(func: Job) -> str:
    """RQ's default description is the call with its arguments (phones, texts); workers log it."""
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}"


@dataclass(order=True)
class _Timed:
    at: float
    seq: int
    call: Callable[[], None] = field(compare=False)


class InlineQueue:
    """The embedded runner: a small thread pool plus a timer thread for delayed jobs.

    Retries are honoured as in RQ. Nothing survives a restart, which is the trade of embedded mode.
    """

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jumbe-job")
        self._timers: list[_Timed] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._timer_loop, name="jumbe-timers", daemon=True)
        self._thread.start()

    def enqueue(
        self, func: Job, *args: Any, delay: float = 0, retry: Retry | None = None, job_id: str | None = None
    ) -> None:
        self._schedule(lambda: self._run(func, args, retry, 0), delay)

    def enqueue_many(self, calls: Sequence[tuple[Job, tuple[Any, ...]]]) -> None:
        for func, args in calls:
            self.enqueue(func, *args)

    def _schedule(self, call: Callable[[], None], delay: float) -> None:
        if self._closed:
            return
        if delay <= 0:
            self._pool.submit(call)
            return
        with self._wake:
            heapq.heappush(self._timers, _Timed(time.monotonic() + delay, next(self._seq), call))
            self._wake.notify()

    def _run(self, func: Job, args: tuple[Any, ...], retry: Retry | None, attempt: int) -> None:
        try:
            func(*args)
        except Exception:
            if retry is not None and attempt < retry.max:
                wait = retry.interval(attempt)
                _logger.warning("job %s failed, retry %d in %ss", func.__name__, attempt + 1, wait, exc_info=True)
                self._schedule(lambda: self._run(func, args, retry, attempt + 1), wait)
            else:
                _logger.exception("job %s failed for good", func.__name__)

    def _timer_loop(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._timers or self._timers[0].at > time.monotonic()):
                    timeout = self._timers[0].at - time.monotonic() if self._timers else None
                    self._wake.wait(timeout)
                if self._closed:
                    return
                due = heapq.heappop(self._timers)
            self._pool.submit(due.call)

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)


class SyncQueue:
    """For tests: runs every job at once, in the caller's thread; delays are recorded, not waited."""

    def __init__(self) -> None:
        self.delays: list[tuple[str, float]] = []

    def enqueue(
        self, func: Job, *args: Any, delay: float = 0, retry: Retry | None = None, job_id: str | None = None
    ) -> None:
        self.delays.append((func.__name__, delay))
        func(*args)

    def enqueue_many(self, calls: Sequence[tuple[Job, tuple[Any, ...]]]) -> None:
        for func, args in calls:
            func(*args)


class DeferredQueue:
    """For tests: keeps jobs until :meth:`run_all` so a test can look between enqueue and run."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Job, tuple[Any, ...], float]] = []

    def enqueue(
        self, func: Job, *args: Any, delay: float = 0, retry: Retry | None = None, job_id: str | None = None
    ) -> None:
        self.jobs.append((func, args, delay))

    def enqueue_many(self, calls: Sequence[tuple[Job, tuple[Any, ...]]]) -> None:
        self.jobs.extend((func, args, 0.0) for func, args in calls)

    def run_all(self, *, max_delay: float | None = None) -> int:
        ran = 0
        while True:
            ready = [job for job in self.jobs if max_delay is None or job[2] <= max_delay]
            if not ready:
                return ran
            for job in ready:
                self.jobs.remove(job)
                job[0](*job[1])
                ran += 1
