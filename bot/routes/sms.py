"""SMS webhooks: inbound messages and delivery reports from Africa's Talking and Twilio.

Inbound SMS are de-duplicated on the provider's id and queued (``bot.jobs.intake``); a job runs
the engine and answers through the provider's API from the number the member wrote to. Twilio's
requests are signed (``X-Twilio-Signature`` over ``JUMBE_PUBLIC_URL`` + path + query and every
POST parameter): 401 without a signature, 403 with a wrong one, nothing stored or queued.
Africa's Talking signs nothing, so only the PIN stands between a forged sender and an account.
Unreadable but acceptable requests are logged and answered 200 so the provider stops retrying.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.bootstrap import Container
from bot.jobs import inbound, statuses
from channels.base import DeliveryStatus
from channels.sms import africastalking, twilio
from flows.messages import Inbound

_logger = logging.getLogger(__name__)

TWIML = "application/xml"


def _fields(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _accept(container: Container, message: Inbound, fields: dict[str, str]) -> bool:
    try:
        await container.services["intake"].accept(
            message.provider, [message.provider_message_id], inbound.process_sms, message.provider, json.dumps(fields)
        )
    except Exception:
        _logger.exception("%s sms could not be queued", message.provider)
        return False
    return True


async def _queue_report(container: Container, report: DeliveryStatus) -> bool:
    try:
        await container.services["intake"].accept(
            "reports", [], statuses.reports_job, statuses.encode([report]), always=True
        )
    except Exception:
        _logger.exception("%s delivery report could not be queued", report.provider)
        return False
    return True


async def at_inbound(request: Request) -> Response:
    container: Container = request.app.state.container
    fields = _fields(await request.form())
    message = africastalking.parse_inbound(fields)
    if message is None:
        _logger.info("africastalking sms: nothing to answer in the callback; ignored")
        return PlainTextResponse("OK")
    if not await _accept(container, message, fields):
        return PlainTextResponse("try again", status_code=503)
    return PlainTextResponse("OK")


async def at_delivery(request: Request) -> Response:
    container: Container = request.app.state.container
    report = africastalking.parse_delivery_report(_fields(await request.form()))
    if report is not None and not await _queue_report(container, report):
        return PlainTextResponse("try again", status_code=503)
    return PlainTextResponse("OK")


def _twilio_signed(handler: Callable[[Request, dict[str, str]], Coroutine[Any, Any, Response]]) -> Any:
    """Check ``X-Twilio-Signature`` before ``handler`` sees the form."""

    async def checked(request: Request) -> Response:
        container: Container = request.app.state.container
        form = await request.form()
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            _logger.warning("twilio request without a signature refused")
            return PlainTextResponse("missing signature", status_code=401)
        url = container.settings.public_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        token = container.settings.twilio_auth_token.get_secret_value()
        # The multi-dict itself: a repeated parameter is signed with all its values.
        if not twilio.validate_signature(url, form, signature, token):  # type: ignore[arg-type]
            _logger.warning("twilio request with a wrong signature refused")
            return PlainTextResponse("bad signature", status_code=403)
        return await handler(request, _fields(form))

    return checked


async def twilio_inbound(request: Request, fields: dict[str, str]) -> Response:
    """Answer empty TwiML at once; the reply goes out through the REST API from a job."""
    container: Container = request.app.state.container
    message = twilio.parse_inbound(fields)
    if message is None:
        _logger.info("twilio sms: nothing to answer in the webhook; ignored")
    elif not await _accept(container, message, fields):
        return PlainTextResponse("try again", status_code=503)
    return Response(twilio.TWIML_EMPTY, media_type=TWIML)


async def twilio_status(request: Request, fields: dict[str, str]) -> Response:
    container: Container = request.app.state.container
    report = twilio.parse_status(fields)
    if report is not None and not await _queue_report(container, report):
        return PlainTextResponse("try again", status_code=503)
    return PlainTextResponse("OK")


routes = [
    Route("/channels/africastalking/sms", at_inbound, methods=["POST"]),
    Route("/channels/africastalking/sms/delivery", at_delivery, methods=["POST"]),
    Route("/channels/twilio/sms", _twilio_signed(twilio_inbound), methods=["POST"]),
    Route("/channels/twilio/status", _twilio_signed(twilio_status), methods=["POST"]),
]
