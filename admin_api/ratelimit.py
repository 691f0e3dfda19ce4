"""Per-key token buckets: ``rate`` requests a second on average, bursts up to ``burst``.

In memory for one process (embedded mode), or in Redis so every web process shares the bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class RateLimiter(Protocol):
    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0 if allowed, else seconds until one is free."""
        ...


class MemoryBuckets:
    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._remember(key, (tokens - 1, now))
                return 0.0
            self._remember(key, (tokens, now))
            return (1 - tokens) / self.rate

    def _remember(self, key: str, state: tuple[float, float]) -> None:
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._buckets.pop(next(iter(self._buckets)))  # forget the oldest; it refills to full anyway
        self._buckets[key] = state


# KEYS[1] bucket; ARGV rate, burst, now (seconds, float). Returns the wait in milliseconds (0 = allowed).
_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class RedisBuckets:
    """The same bucket in Redis (one atomic script per request), shared by every web process."""

    def __init__(self, client: Any, rate: float, burst: int, *, prefix: str = "jumbe:ratelimit:") -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.client = client
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = client.register_script(_SCRIPT)

    def take(self, key: str) -> float:
        wait_ms = self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        return int(wait_ms) / 1000


def retry_after(wait: float) -> str:
    """Whole seconds, rounded up, at least 1 (the header takes integers)."""
    return str(max(1, math.ceil(wait)))
