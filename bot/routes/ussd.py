"""Africa's Talking USSD: hops answered inline, and the end-of-session notification."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.bootstrap import Container
from bot.engine import Turn
from bot.labels import nav_labels
from bot.sessions import SessionBusy
from channels import ussd
from core.errors import Invalid
from core.phones import mask
from flows.i18n import t
from flows.messages import Inbound

_logger = logging.getLogger(__name__)
renderer = ussd.UssdRenderer(nav_labels)
_limiter: anyio.CapacityLimiter | None = None
MAX_FIELDS = 50
"""Africa's Talking sends a dozen fields at most."""


def _screen(body: str) -> PlainTextResponse:
    return PlainTextResponse(body, media_type="text/plain")


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a form POST. Africa's Talking sends ``application/x-www-form-urlencoded``,
    which the standard library parses in a fifth of the time Starlette's form parser takes (this
    is the hottest path we have); anything else goes through Starlette's parser."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS))
        except ValueError:  # more fields than any provider sends
            return {}
    return {k: v for k, v in (await request.form(max_fields=MAX_FIELDS)).items() if isinstance(v, str)}


async def hop(request: Request) -> Response:
    container: Container = request.app.state.container
    form = await form_fields(request)
    try:
        inbound = ussd.parse_hop(form)
    except Invalid as exc:
        _logger.info("USSD hop refused: %s", exc.message)
        return _screen("END " + t("en", "common.service_error"))
    try:
        turn = await _handle(container, inbound)
    except SessionBusy:
        return _screen("END " + t("en", "common.try_again"))
    except Exception:
        _logger.exception("USSD hop failed for %s", mask(inbound.phone_e164))
        return _screen("END " + t("en", "common.service_error"))
    screen = renderer.render(turn.messages, page=turn.page, lang=turn.lang, can_go_back=turn.can_go_back)
    return _screen(screen.body)


async def _handle(container: Container, inbound: Inbound) -> Turn:
    """On the event loop, or in the hop threads when ``JUMBE_HOP_THREADS`` asks for them.

    A hop is mostly CPU (the state machine, rendering) plus a few short database reads: inline it
    costs no thread hand-off, and awaiting Redis lets the loop serve other hops meanwhile
    (measured in bench/README.md). Threads pay off only when database round trips are long.
    """
    threads = container.settings.hop_threads
    if not threads:
        return await container.engine.handle_async(inbound, renderer)
    global _limiter
    if _limiter is None or _limiter.total_tokens != threads:  # made inside the running loop
        _limiter = anyio.CapacityLimiter(threads)
    return await anyio.to_thread.run_sync(container.engine.handle, inbound, renderer, limiter=_limiter)


async def session_event(request: Request) -> Response:
    """AT's end-of-session notification: not a hop. Closes a completed session (nothing to resume);
    a dropped one stays resumable. Always 200, so AT does not retry; problems are logged."""
    container: Container = request.app.state.container
    form = await form_fields(request)
    try:
        end = ussd.parse_session_end(form)
    except Invalid as exc:
        _logger.warning("USSD end-of-session notice ignored: %s", exc.message)
        return PlainTextResponse("OK")
    try:
        matched = await container.engine.session_ended(
            end.binding, end.phone_e164, end.session_key, completed=end.completed
        )
    except SessionBusy:
        matched = False  # a hop of this session is still running; its own END (if any) closes it
    except Exception:
        _logger.exception("USSD end-of-session notice for %s failed", mask(end.phone_e164))
        return PlainTextResponse("OK")
    _logger.info(
        "USSD session %s ended: status=%s hops=%s cost=%s%s",
        end.session_key,
        end.status,
        form.get("hopsCount"),
        form.get("cost"),
        "" if matched else " (no matching conversation)",
    )
    return PlainTextResponse("OK")


routes = [
    Route("/channels/africastalking/ussd", hop, methods=["POST"]),
    Route("/channels/africastalking/ussd/events", session_event, methods=["POST"]),
]
