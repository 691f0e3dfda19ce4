"""Pacing per sending number: a token bucket per sender, inside the delivery job.

Providers throttle per number (WhatsApp Cloud API throughput, SMS gateway TPS); sending
slower than their limit is cheaper than being told to back off. One bucket per process: with
several workers, divide the configured rate by the number of workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    """``rate`` tokens per second, bursts of up to ``burst``; ``take`` sleeps when empty."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self.tokens = self.burst
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.waited = 0.0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1:
                wait = (1 - self.tokens) / self.rate
                self.sleep(wait)
                self.waited += wait
                self.updated = self.clock()
                self.tokens = 1.0
            self.tokens -= 1


class TokenBuckets:
    """One bucket per sender key, each with its channel's rate (unlimited if the channel has none)."""

    def __init__(self, rates: Mapping[str, float], **bucket_options: object) -> None:
        self.rates = dict(rates)
        self.options = bucket_options
        self.buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, sender: str, channel: str) -> None:
        rate = self.rates.get(channel)
        if rate is None or rate <= 0:
            return
        with self._lock:
            bucket = self.buckets.get(sender)
            if bucket is None:
                bucket = self.buckets[sender] = TokenBucket(rate, **self.options)  # type: ignore[arg-type]
        bucket.take()
