"""An asyncio Redis client for the request path, beside the synchronous one jobs and the CLI use.

An asyncio connection belongs to the event loop that opened it, and a process may run more than
one loop (a test client starts its own), so :class:`LoopClient` opens one per loop, lazily, at the
address of the synchronous client (or the URL it is given). The hiredis parser is used when
installed, as with the synchronous client.

Its pool is redis-py's blocking one: a burst of more concurrent requests than it has connections
waits (up to ``SOCKET_TIMEOUT``) for one to come free, where the default pool would fail the
101st at once with "Too many connections".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import NoScriptError

SOCKET_TIMEOUT = 5
"""Seconds to connect, to wait for a free connection or to wait for an answer, before failing."""
MAX_CONNECTIONS = 50
"""Connections per process and loop: enough to keep Redis busy; more only queue inside Redis."""


class LoopClient:
    def __init__(self, sync_client: Any, url: str | None = None) -> None:
        self.sync = sync_client
        self.url = url
        self._client: AsyncRedis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> AsyncRedis:
        """The client for the running loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            pool = BlockingConnectionPool.from_url(
                self.url or url_of(self.sync),
                max_connections=MAX_CONNECTIONS,
                timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
            )
            self._client = AsyncRedis.from_pool(pool)  # closing the client closes its pool
            self._loop = loop
        return self._client

    @property
    def current(self) -> AsyncRedis | None:
        """The client made last, if any (tests look at its commands)."""
        return self._client

    def reset(self, url: str | None = None) -> None:
        """Forget the client (without closing it); the next :meth:`get` connects to ``url``."""
        if url is not None:
            self.url = url
        self._client = None
        self._loop = None

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()  # type: ignore[attr-defined]
        self.reset()


def url_of(client: Any) -> str:
    """The URL of a redis-py client's server (for tests that hand over a client, not a URL)."""
    given = client.connection_pool.connection_kwargs
    auth = ""
    if given.get("password"):
        auth = f"{given.get('username') or ''}:{given['password']}@"
    return f"redis://{auth}{given.get('host', '127.0.0.1')}:{given.get('port', 6379)}/{given.get('db', 0)}"


class Script(Protocol):
    """A Lua script and its SHA1 (redis-py's registered scripts have both)."""

    script: str
    sha: str


async def evalsha(client: AsyncRedis, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
    """Run ``script`` by its SHA, loading it first when Redis answers NOSCRIPT (the first call
    after Redis started, or after its scripts were flushed)."""
    try:
        return await client.evalsha(script.sha, len(keys), *keys, *args)  # type: ignore[misc]
    except NoScriptError:
        await client.script_load(script.script)  # type: ignore[misc]
        return await client.evalsha(script.sha, len(keys), *keys, *args)  # type: ignore[misc]
