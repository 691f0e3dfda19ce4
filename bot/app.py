"""The Starlette application: public routes of design.md, admin API, sandbox and simulator."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot.bootstrap import Container, bootstrap
from bot.limits import BodySizeLimit
from bot.routes import health, ussd
from bot.settings import Settings, load

_logger = logging.getLogger(__name__)


def create_app(container: Container | None = None, settings: Settings | None = None) -> Starlette:
    """Build the ASGI app around ``container`` (built from the environment when omitted)."""
    container = container or bootstrap(settings or load())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        container.close()

    routes: list[BaseRoute] = [*health.routes, *ussd.routes]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodySizeLimit, max_bytes=container.settings.max_body_bytes)],
        lifespan=lifespan,
    )
    app.state.container = container
    return app
