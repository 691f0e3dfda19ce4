"""The Starlette application: public routes of design.md, admin API, sandbox and simulator."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot import sandbox_mount
from bot.bootstrap import Container, bootstrap
from bot.limits import BodySizeLimit
from bot.routes import admin, health, mpesa, sms, ussd, whatsapp
from bot.settings import Settings, load

_logger = logging.getLogger(__name__)


_frozen = False
GC_THRESHOLDS = (10_000, 10, 10)
"""The youngest generation is collected after 10,000 net allocations instead of 700. A hop makes
hundreds of short-lived containers that reference counting frees anyway; collecting every 700
cost ~6% of a loaded server's time in young collections (bench/README.md)."""


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, tables, flows) out of the collector's generations, once,
    and collect less often.

    Otherwise every full collection walks it all: 100-190 ms pauses under load (bench/README.md).
    Once per process, so test runs that build many apps do not pin each one's garbage.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def create_app(container: Container | None = None, settings: Settings | None = None) -> Starlette:
    """Build the ASGI app around ``container`` (built from the environment when omitted)."""
    container = container or bootstrap(settings or load())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _freeze_startup_objects()
        yield
        await sandbox_mount.close(app)
        await container.store.aclose()  # the USSD path's Redis connection
        intake = container.services.get("intake")
        if intake is not None:
            await intake.aclose()  # the webhook path's Redis connection
        container.close()

    routes: list[BaseRoute] = [*health.routes, *ussd.routes, *mpesa.routes, *whatsapp.routes, *sms.routes]
    routes += sandbox_mount.routes(container.settings)  # /sandbox and /simulator, sandbox mode only
    routes.append(admin.mount(container))  # /admin/v1/..., /admin/docs
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodySizeLimit, max_bytes=container.settings.max_body_bytes)],
        lifespan=lifespan,
    )
    app.state.container = container
    return app
