"""A server with the simulator open stops at once: the sandbox's event streams end first."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine as DbEngine
from starlette.applications import Starlette

from bot import sandbox_mount
from bot.app import create_app
from bot.settings import Settings
from core.clock import FixedClock
from tests.bot.sandbox.test_control import SseClient
from tests.conftest import make_container
from tests.e2e.live import live_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_end_streams_finishes_open_event_streams(db: DbEngine, settings: Settings, clock: FixedClock) -> None:
    app = create_app(make_container(db, settings, clock))
    mounted = next(route.app for route in app.routes if getattr(route, "path", "") == sandbox_mount.SANDBOX_PATH)
    assert isinstance(mounted, Starlette)
    async with SseClient(mounted) as stream:
        assert (await stream.next())["status"] == 200
        assert await stream.chunk() == ": connected\n\n"
        sandbox_mount.end_streams(app)
        last = await stream.next()
        assert last["type"] == "http.response.body" and not last.get("more_body", False)


def test_live_server_with_an_open_stream_stops_at_once(tmp_path: Path) -> None:
    with httpx.Client(timeout=5) as client:  # outlives the server: the browser tab stays open
        with live_server(tmp_path) as server:
            request = client.build_request("GET", f"{server.base_url}/sandbox/sandbox-control/events")
            response = client.send(request, stream=True)
            lines = response.iter_lines()
            assert next(lines) == ": connected"
            stopping = time.monotonic()
        assert time.monotonic() - stopping < 3  # not the 10 s grace period
        assert not any(line.strip() for line in lines)  # the stream ended cleanly
        response.close()
