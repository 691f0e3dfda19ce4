"""A real uvicorn server of the whole app on 127.0.0.1, as ``jumbe demo`` runs it: sandbox mode,
SQLite, the embedded job runner, the demo organisation. Everything crosses real sockets: our
adapters call the mounted sandbox over HTTP and the sandbox's callbacks come back the same way.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import SQLModel
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from bot import demo, sandbox_mount, serving
from bot.app import create_app
from bot.bootstrap import Container, bootstrap
from bot.sandbox import Sandbox
from bot.settings import Settings
from core.uow import UnitOfWork


@dataclass
class RequestLog:
    """ASGI wrapper recording every request's method and path (the test's view of the wire)."""

    app: Starlette
    seen: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, path in list(self.seen) if m == method and path.startswith(prefix))


@dataclass
class LiveServer:
    base_url: str
    container: Container
    app: Starlette
    sandbox: Sandbox
    requests: RequestLog

    def uow(self) -> UnitOfWork:
        return self.container.uow()


def _socket() -> socket.socket:
    # Bound here and handed to uvicorn, so no other process can take the port in between.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(tmp_path: Path, **settings: Any) -> Iterator[LiveServer]:
    """Serve a freshly seeded demo on a free port until the block ends."""
    sock = _socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options: dict[str, Any] = {"sandbox_callback_delay": 0.0, **settings}
    config = Settings(database_url=f"sqlite:///{tmp_path}/live.db", public_url=base_url, **options)
    container = bootstrap(config)  # embedded: in-memory sessions, in-process jobs, system clock
    SQLModel.metadata.create_all(container.db)
    with container.uow() as uow:
        demo.seed(uow, container.clock)
    app = create_app(container)
    sandbox = sandbox_mount.sandbox_in(app)
    assert sandbox is not None
    requests = RequestLog(app)
    # The same server class as `jumbe demo`: open event streams end first, so it stops at once.
    server = serving.Server(serving.config(requests, log_level="warning", lifespan="on"), app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        assert httpx.get(f"{base_url}/healthz").status_code == 200
        yield LiveServer(base_url, container, app, sandbox, requests)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
