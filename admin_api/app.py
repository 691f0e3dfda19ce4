"""The admin API as one Starlette app, to be mounted at ``/admin`` by the application."""

from __future__ import annotations

import functools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from admin_api import docs, openapi
from admin_api.errors import method_not_allowed, not_found_route
from admin_api.operations import Jobs
from admin_api.pipeline import Deps, Endpoint, endpoint
from admin_api.ratelimit import RateLimiter
from admin_api.routes import ROUTE_TABLE
from core.clock import Clock
from core.uow import UowFactory

TITLE = "Jumbe admin API"
VERSION = "1.0.0"


def create_admin(
    uow_factory: UowFactory, clock: Clock, *, limiter: RateLimiter | None = None, jobs: Jobs | None = None
) -> Starlette:
    """Build the admin app over a unit-of-work factory and a clock (it knows nothing of ``bot``).

    Args:
        uow_factory: a new :class:`core.uow.UnitOfWork` per call.
        clock: the time source (a fixed clock in tests).
        limiter: per-key rate limiting; None turns it off.
        jobs: how to queue follow-up work; without it status queries answer 409 and broadcasts
            wait for the scheduler's next dispatch.
    """
    deps = Deps(uow_factory=uow_factory, clock=clock, limiter=limiter, jobs=jobs or Jobs())
    spec, page = _documents()

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec)

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(page)

    by_path: dict[str, dict[str, Endpoint]] = {}
    for operation in ROUTE_TABLE:
        by_path.setdefault(operation.starlette_path, {})[operation.method] = endpoint(operation, deps)
    # One route per path, so a wrong method's 405 lists every method the path does allow.
    routes: list[BaseRoute] = [
        Route(path, _by_method(handlers), methods=list(handlers)) for path, handlers in by_path.items()
    ]
    routes += [
        Route("/v1/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
    ]
    handlers: dict[Any, Any] = {404: not_found_route, 405: method_not_allowed}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.openapi = spec
    return app


def _by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


@functools.cache
def _documents() -> tuple[dict[str, Any], str]:
    """The OpenAPI document and the docs page: built once per process, the route table is fixed."""
    spec = openapi.document(ROUTE_TABLE, title=TITLE, version=VERSION)
    return spec, docs.render(spec)
