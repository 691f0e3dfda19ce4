"""Serving the app with uvicorn, so that Ctrl+C stops it at once even with a simulator page open."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from bot import sandbox_mount

GRACEFUL_SECONDS = 10
"""The longest a stopping server waits for requests in flight (USSD hops and webhooks are fast)."""


class Server(uvicorn.Server):
    """uvicorn's server, ending the sandbox's event streams before it waits for connections to close."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.jumbe_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Streams never finish by themselves; without this, shutdown waits the whole grace period.
        sandbox_mount.end_streams(self.jumbe_app)
        await super().shutdown(sockets=sockets)


def config(app: ASGIApp, **options: object) -> uvicorn.Config:
    """Return uvicorn's config for our app, with the bounded graceful shutdown."""
    options.setdefault("timeout_graceful_shutdown", GRACEFUL_SECONDS)
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]


def run(app: Starlette, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until Ctrl+C (or SIGTERM)."""
    Server(config(app, host=host, port=port, log_level=log_level), app).run()
