"""WhatsApp Cloud API webhook: the verification handshake and signed notifications.

A notification is authenticated (``X-Hub-Signature-256`` over the raw body) before anything is
parsed: 401 without a signature, 403 with a wrong one, and nothing is stored or queued. An
authentic one is answered 200 at once; its message ids are de-duplicated and its processing is
queued durably in one Redis round trip (``bot.jobs.intake``), and a job does the rest. An
authentic body we cannot read is logged and answered 200, so Meta does not retry it forever;
only a queue that cannot be reached answers 503, so Meta does deliver again.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.bootstrap import Container
from bot.jobs import inbound
from channels.whatsapp import scan, verify_handshake, verify_signature

_logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature-256"


def _ok() -> Response:
    return PlainTextResponse("OK")


async def handshake(request: Request) -> Response:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    container: Container = request.app.state.container
    token = container.settings.whatsapp_verify_token.get_secret_value()
    challenge = verify_handshake(dict(request.query_params), token)
    if challenge is None:
        _logger.warning("whatsapp handshake refused (mode %r)", request.query_params.get("hub.mode"))
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(challenge)


async def webhook(request: Request) -> Response:
    container: Container = request.app.state.container
    raw = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        _logger.warning("whatsapp webhook without a signature refused")
        return PlainTextResponse("missing signature", status_code=401)
    if not verify_signature(raw, signature, container.settings.whatsapp_app_secret.get_secret_value()):
        _logger.warning("whatsapp webhook with a wrong signature refused")
        return PlainTextResponse("bad signature", status_code=403)
    try:
        payload = json.loads(raw)
    except ValueError:
        _logger.warning("whatsapp webhook: signed body of %d bytes is not JSON; ignored", len(raw))
        return _ok()
    ids, more = scan(payload)  # the job parses in full; here only what de-duplicating needs
    if not ids and not more:
        _logger.debug("whatsapp webhook without messages, statuses or errors; nothing to do")
        return _ok()
    try:
        await container.services["intake"].accept("whatsapp", ids, inbound.process_whatsapp, raw, always=more)
    except Exception:
        _logger.exception("whatsapp webhook could not be queued; Meta will deliver it again")
        return PlainTextResponse("try again", status_code=503)
    return _ok()


routes = [
    Route("/channels/whatsapp", handshake, methods=["GET"]),
    Route("/channels/whatsapp", webhook, methods=["POST"]),
]
