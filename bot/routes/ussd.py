"""Africa's Talking USSD: hops answered inline, and the end-of-session notification."""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.bootstrap import Container
from bot.labels import nav_labels
from bot.sessions import SessionBusy
from channels import ussd
from core.errors import Invalid
from core.phones import mask
from flows.i18n import t

_logger = logging.getLogger(__name__)
renderer = ussd.UssdRenderer(nav_labels)

HOP_THREADS = 4
"""Hops run in a small thread pool of their own. A hop is mostly CPU (the state machine, the
ledger read); dozens of threads would only fight over the GIL (measured: 40 threads, 4.6% of bare
Starlette; see bench/README.md), while a few still overlap the database and Redis round trips."""
_limiter: anyio.CapacityLimiter | None = None


def _hop_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:  # created inside the running event loop
        _limiter = anyio.CapacityLimiter(HOP_THREADS)
    return _limiter


def _screen(body: str) -> PlainTextResponse:
    return PlainTextResponse(body, media_type="text/plain")


async def hop(request: Request) -> Response:
    container: Container = request.app.state.container
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        inbound = ussd.parse_hop(form)
    except Invalid as exc:
        _logger.info("USSD hop refused: %s", exc.message)
        return _screen("END " + t("en", "common.service_error"))
    try:
        turn = await anyio.to_thread.run_sync(container.engine.handle, inbound, renderer, limiter=_hop_limiter())
    except SessionBusy:
        return _screen("END " + t("en", "common.try_again"))
    except Exception:
        _logger.exception("USSD hop failed for %s", mask(inbound.phone_e164))
        return _screen("END " + t("en", "common.service_error"))
    screen = renderer.render(turn.messages, page=turn.page, lang=turn.lang, can_go_back=turn.can_go_back)
    return _screen(screen.body)


async def session_event(request: Request) -> Response:
    """AT's end-of-session notification: not a hop; marks the conversation as dropped or done."""
    form = await request.form()
    _logger.info(
        "USSD session %s ended: status=%s cost=%s",
        form.get("sessionId"),
        form.get("status"),
        form.get("cost"),
    )
    return PlainTextResponse("OK")


routes = [
    Route("/channels/africastalking/ussd", hop, methods=["POST"]),
    Route("/channels/africastalking/ussd/events", session_event, methods=["POST"]),
]
