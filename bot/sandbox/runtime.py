"""Shared state of one sandbox: config, outbox, the outgoing HTTP client and background deliveries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.sandbox.config import SandboxConfig
from bot.sandbox.outbox import Outbox

_logger = logging.getLogger(__name__)


def _where(url: str) -> str:
    """Return scheme and host of a URL: callback paths carry per-payment secrets, keep them out of logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Sandbox:
    """Everything the fake providers share; one per sandbox app."""

    def __init__(self, config: SandboxConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.outbox = Outbox(limit=config.outbox_limit)
        self._client = client
        self._owns_client = client is None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> httpx.AsyncClient:
        """Return the client for callbacks, created on first use when none was injected."""
        # Created lazily: a sandbox mounted inside another app never sees its own lifespan run.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.config.delivery_timeout_seconds))
        return self._client

    def spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background delivery; its failure is logged, never raised into the app."""
        task = asyncio.get_running_loop().create_task(self._guarded(job, name), name=f"sandbox:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A task cancelled before its first step never starts the job; close it so it is not left unawaited.
        task.add_done_callback(lambda _: job.close())

    async def _guarded(self, job: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await job
        except Exception:
            _logger.exception("sandbox background job %s failed", name)

    async def pause(self, seconds: float | None = None) -> None:
        """Wait the configured callback delay (or the given seconds) before a delivery."""
        delay = self.config.callback_delay_seconds if seconds is None else seconds
        # Even a zero delay yields, so a response is always returned before its callback starts.
        await asyncio.sleep(max(delay, 0))

    async def post(
        self,
        url: str,
        *,
        what: str,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response | None:
        """POST a callback to a caller's URL; a receiver that is down is logged and dropped."""
        try:
            response = await self.client.post(url, json=json, content=content, data=data, headers=headers)
        except httpx.HTTPError as exc:
            _logger.warning("sandbox %s to %s failed: %r", what, _where(url), exc)
            return None
        if response.is_error:
            _logger.warning("sandbox %s to %s answered %s", what, _where(url), response.status_code)
        return response

    @property
    def busy(self) -> bool:
        """Tell whether background deliveries are still running."""
        return bool(self._tasks)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every background delivery (and any it started) has finished."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the client if the sandbox created it."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None
