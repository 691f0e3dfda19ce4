"""Daraja's STK push callback: ``POST /payments/mpesa/callback/{token}``.

Callbacks are unsigned, so the token (unguessable, one per payment) is what identifies the
payment, together with the optional source-IP allowlist (``JUMBE_MPESA_CALLBACK_ALLOWLIST``) and
the amount / phone cross-check in the settlement. A refused source IP gets 403 and changes
nothing; anything else, even unreadable, unknown or failing, gets 200 ``Accepted`` and a log
line: Daraja does not retry, and the status-query jobs settle what a callback could not.
"""

from __future__ import annotations

import logging
import re
from ipaddress import ip_address, ip_network

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.bootstrap import Container
from bot.mpesa_gateway import report_from_callback
from channels.mpesa import MalformedCallback, StkCallback, parse_callback
from core import payments
from core.settlement import settle

_logger = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
_TOKEN_IN_PATH = re.compile(r"(/payments/mpesa/callback/)[^/?\s\"]+")


class _RedactTokens(logging.Filter):
    """Keeps callback tokens (per-payment secrets) out of access logs, which print request paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_PATH.sub(r"\1***", record.msg)
        return True


redact_tokens = _RedactTokens()
logging.getLogger("uvicorn.access").addFilter(redact_tokens)


def _accepted() -> JSONResponse:
    return JSONResponse(ACCEPTED)


def allowed(allowlist: str, host: str | None) -> bool:
    """True when the allowlist is empty, or ``host`` is in one of its addresses or networks."""
    entries = [entry.strip() for entry in allowlist.split(",") if entry.strip()]
    if not entries:
        return True
    try:
        address = ip_address(host or "")
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ip_network(entry, strict=False):
                return True
        except ValueError:
            _logger.error("mpesa_callback_allowlist entry %r is not an IP address or network", entry)
    return False


async def callback(request: Request) -> Response:
    container: Container = request.app.state.container
    host = request.client.host if request.client else None
    if not allowed(container.settings.mpesa_callback_allowlist, host):
        _logger.warning("M-Pesa callback from %s refused: not in the allowlist", host)
        return JSONResponse({"ResultCode": 1, "ResultDesc": "Rejected"}, status_code=403)
    try:
        body = await request.body()
    except ClientDisconnect:
        _logger.warning("M-Pesa callback: client went away before the body was read")
        return _accepted()
    try:
        parsed = parse_callback(body)
    except MalformedCallback as exc:
        _logger.warning("M-Pesa callback unreadable (%s bytes): %s", len(body), exc.reason)
        return _accepted()
    try:
        await run_in_threadpool(handle_callback, container, request.path_params["token"], parsed)
    except Exception:
        _logger.exception("M-Pesa callback for %s could not be settled", parsed.checkout_request_id)
    return _accepted()


def handle_callback(container: Container, token: str, parsed: StkCallback) -> None:
    """Settle the payment the token names by what the callback says (exactly once, however often)."""
    with container.uow() as uow:
        payment = payments.by_token(uow, token)
        if payment is None:
            # Never log the token itself: it is the secret that names a payment.
            _logger.warning("M-Pesa callback for %s: unknown token; ignored", parsed.checkout_request_id)
            return
        result = settle(uow, report_from_callback(parsed), now=container.clock.now(), payment_id=payment.id)
        uow.commit()
    if not result.applied:
        _logger.info("M-Pesa callback for payment %s changed nothing (%s)", payment.id, result.payment.state)


routes = [Route("/payments/mpesa/callback/{token}", callback, methods=["POST"])]
