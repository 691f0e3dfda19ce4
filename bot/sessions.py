"""Where conversations live between hops: Redis in production, process memory when embedded.

Both backends offer the same three things: a per-key lock around load-and-save, a TTL on
saved conversations, and an atomic "first time we see this provider message id" check.
A hop costs two Redis round trips, each one script: lock+load, then save+unlock.
The lock comes in two forms with the same behaviour: ``locked`` (blocking, for jobs and threads)
and ``alocked`` (for the event loop: USSD hops are answered on it, and a Redis round trip lets
the loop serve other requests meanwhile).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

import redis

from bot.aredis import LoopClient, evalsha

LOCK_TTL_MS = 10_000
LOCK_WAIT_S = 5.0


class SessionBusy(Exception):
    """Another hop of the same conversation held the lock for too long."""


class Slot(Protocol):
    data: dict[str, Any] | None

    def save(self, data: dict[str, Any], ttl: int) -> None: ...

    def delete(self) -> None: ...


class SessionStore(Protocol):
    def locked(self, key: str) -> Any:
        """Context manager yielding a :class:`Slot` while holding the key's lock."""
        ...

    def alocked(self, key: str) -> Any:
        """The same as an async context manager, for code on the event loop."""
        ...

    def first_time(self, namespace: str, ident: str, ttl: int = 86_400) -> bool:
        """True exactly once per ``(namespace, ident)`` within ``ttl``, across processes."""
        ...

    def get(self, key: str) -> dict[str, Any] | None: ...

    def ping(self) -> bool: ...

    async def aclose(self) -> None:
        """Close what ``alocked`` opened on the running loop."""
        ...


class _MemorySlot:
    def __init__(self, store: MemoryStore, key: str) -> None:
        self.store = store
        self.key = key
        self.data = store.get(key)

    def save(self, data: dict[str, Any], ttl: int) -> None:
        self.store._values[self.key] = (time.monotonic() + ttl, json.dumps(data))
        self.data = data

    def delete(self) -> None:
        self.store._values.pop(self.key, None)


class MemoryStore:
    """The embedded backend: one process, threads share it. Values are JSON, as in Redis."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, str]] = {}
        self._seen: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        item = self._values.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        loaded: dict[str, Any] = json.loads(item[1])
        return loaded

    @contextmanager
    def locked(self, key: str) -> Iterator[_MemorySlot]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=LOCK_WAIT_S):
            raise SessionBusy(key)
        try:
            yield _MemorySlot(self, key)
        finally:
            lock.release()

    @asynccontextmanager
    async def alocked(self, key: str) -> AsyncIterator[_MemorySlot]:
        # Nothing awaits while the lock is held, so hops on the loop never wait for each other;
        # only a job thread in the middle of the same conversation could hold it, for one hop.
        with self.locked(key) as slot:
            yield slot

    def first_time(self, namespace: str, ident: str, ttl: int = 86_400) -> bool:
        now = time.monotonic()
        name = f"{namespace}:{ident}"
        with self._guard:
            if self._seen.get(name, 0) > now:
                return False
            self._seen[name] = now + ttl
            if len(self._seen) > 100_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            return True

    def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


_LOCK_AND_LOAD = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('get', KEYS[2])}
end
return {0}
"""
"""Take the lock and read the conversation in one command: ``{1, json}``, ``{1}`` (no
conversation yet) or ``{0}`` (another hop holds the lock)."""

_RELEASE_AND_SAVE = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
if ARGV[2] ~= '' then redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
if ARGV[4] == '1' then redis.call('del', KEYS[2]) end
return 1
"""


class _RedisSlot:
    def __init__(self, store: RedisStore, key: str, data: dict[str, Any] | None) -> None:
        self.store = store
        self.key = key
        self.data = data
        self.pending: tuple[str, int, bool] | None = None

    def save(self, data: dict[str, Any], ttl: int) -> None:
        self.pending = (json.dumps(data), ttl, False)
        self.data = data

    def delete(self) -> None:
        self.pending = ("", 0, True)


class RedisStore:
    """Conversations as JSON strings with a TTL; locks are ``SET NX PX`` with a token."""

    def __init__(self, client: redis.Redis, prefix: str = "jumbe", *, url: str | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        self.aio = LoopClient(client, url)
        self._lock = client.register_script(_LOCK_AND_LOAD)
        self._release = client.register_script(_RELEASE_AND_SAVE)

    def _k(self, key: str) -> str:
        return f"{self.prefix}:conv:{key}"

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self.redis.get(self._k(key))
        return json.loads(raw) if raw else None

    @contextmanager
    def locked(self, key: str) -> Iterator[_RedisSlot]:
        token, keys = secrets.token_hex(8), (f"{self.prefix}:lock:{key}", self._k(key))
        deadline = time.monotonic() + LOCK_WAIT_S
        delay = 0.005
        while not (got := self._lock(keys=keys, args=[token, LOCK_TTL_MS]))[0]:
            if time.monotonic() > deadline:
                raise SessionBusy(key)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        slot = _RedisSlot(self, key, _loaded(got))
        try:
            yield slot
        finally:
            self._release(keys=keys, args=self._release_args(token, slot))

    @asynccontextmanager
    async def alocked(self, key: str) -> AsyncIterator[_RedisSlot]:
        client = self.aio.get()
        token, keys = secrets.token_hex(8), (f"{self.prefix}:lock:{key}", self._k(key))
        deadline = time.monotonic() + LOCK_WAIT_S
        delay = 0.005
        while not (got := await evalsha(client, self._lock, keys, (token, LOCK_TTL_MS)))[0]:
            if time.monotonic() > deadline:
                raise SessionBusy(key)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        slot = _RedisSlot(self, key, _loaded(got))
        try:
            yield slot
        finally:
            await evalsha(client, self._release, keys, self._release_args(token, slot))

    @staticmethod
    def _release_args(token: str, slot: _RedisSlot) -> list[str | int]:
        value, ttl, delete = slot.pending or ("", 0, False)
        return [token, value, max(ttl, 1), "1" if delete else "0"]

    def first_time(self, namespace: str, ident: str, ttl: int = 86_400) -> bool:
        return bool(self.redis.set(f"{self.prefix}:seen:{namespace}:{ident}", 1, nx=True, ex=ttl))

    def ping(self) -> bool:
        return bool(self.redis.ping())

    async def aclose(self) -> None:
        await self.aio.aclose()


def _loaded(locked: list[Any]) -> dict[str, Any] | None:
    return json.loads(locked[1]) if len(locked) > 1 and locked[1] else None
