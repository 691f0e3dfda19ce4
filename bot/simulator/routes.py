"""The /simulator page and its small API: chat as a phone over the public routes and the sandbox.

USSD hops go from the page straight to /channels/africastalking/ussd. WhatsApp and SMS messages
are built and signed here (the secrets stay on the server) and POSTed to our own webhook routes
through the whole app, exactly as a provider's request would arrive. Replies come back through
the sandbox outbox, which the page follows over Server-Sent Events.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot import demo
from bot.bootstrap import Container
from bot.sandbox import Sandbox
from bot.simulator import payloads
from bot.simulator.ledger_view import member_view, org_for
from core.errors import Invalid
from core.phones import mask, normalise

_logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PHONE_NUMBER_ID = "100000000000002"
"""The WhatsApp Business phone number id the simulated messages are addressed to."""
SMS_SHORT_CODE = "22384"
"""The Africa's Talking short code simulated SMS are sent to (the demo binds every code)."""
TEXT_LIMITS = {"whatsapp": 4096, "sms": 1600}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}
_TWIML_MESSAGE = re.compile(r"<Message[^>]*>(.*?)</Message>", re.DOTALL)


class BadRequest(Exception):
    """A simulator API call the page got wrong: answered 400 naming the field."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


def _phone(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("phone", "phone is required")
    try:
        return normalise(raw)
    except Invalid as exc:
        raise BadRequest("phone", exc.message) from None


def _text(body: dict[str, Any], channel: str) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("text", "text is required")
    if len(text) > TEXT_LIMITS[channel]:
        raise BadRequest("text", f"text is longer than {TEXT_LIMITS[channel]} characters")
    return text


def _reply(raw: object) -> payloads.Reply:
    if not isinstance(raw, dict):
        raise BadRequest("reply", "reply must be an object with type, id and title")
    kind, reply_id, title = raw.get("type"), raw.get("id"), raw.get("title", "")
    if kind not in payloads.REPLY_KINDS:
        raise BadRequest("reply.type", f"reply.type must be one of {', '.join(sorted(payloads.REPLY_KINDS))}")
    if not isinstance(reply_id, str) or not reply_id or len(reply_id) > 256:
        raise BadRequest("reply.id", "reply.id must be 1-256 characters")
    if not isinstance(title, str) or len(title) > 80:
        raise BadRequest("reply.title", "reply.title must be at most 80 characters")
    return payloads.Reply(str(kind), reply_id, title)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(None, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest(None, "the body must be a JSON object")
    return body


class SimulatorApi:
    """The page and its endpoints, bound to the mounted sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "simulator.html", headers=_PAGE_HEADERS)

    async def config(self, request: Request) -> Response:
        """Tell the page what to offer: phones, the USSD code, limits and the prompt timeout."""
        container: Container = request.app.state.container
        config = self.sandbox.config
        return JSONResponse(
            {
                "ussd_code": demo.USSD_CODE,
                "ussd_limit": 182,
                "phones": [
                    {"label": "Amina, member", "phone": demo.MEMBER_PHONE},
                    {"label": "Brian, agent", "phone": demo.AGENT_PHONE},
                ],
                "pin_hint": demo.DEMO_PIN,
                "sms_provider": container.settings.sms_provider,
                "manual_approval": config.manual_approval,
                "prompt_timeout_seconds": config.prompt_timeout_seconds,
                "sandbox": "/sandbox",
            }
        )

    async def balances(self, request: Request) -> Response:
        """Return the phone's ledger balances (GET ?phone=...)."""
        container: Container = request.app.state.container
        try:
            phone = _phone(request.query_params.get("phone"))
        except BadRequest as exc:
            return _error(400, "invalid", exc.message, exc.field)

        def read() -> dict[str, Any] | None:
            with container.uow() as uow:
                org = org_for(uow, demo.USSD_CODE)
                return None if org is None else member_view(uow, org, phone, container.clock)

        view = await run_in_threadpool(read)
        if view is None:
            return _error(404, "not_found", "no organisation is bound to the simulator's USSD code; run jumbe demo")
        return JSONResponse(view, headers={"Cache-Control": "no-store"})

    async def whatsapp(self, request: Request) -> Response:
        """Send a text or a tap as the phone: a signed webhook POSTed to /channels/whatsapp."""
        container: Container = request.app.state.container
        try:
            body = await _json(request)
            phone = _phone(body.get("phone"))
            reply = _reply(body["reply"]) if "reply" in body else None
            text = None if reply is not None else _text(body, "whatsapp")
        except BadRequest as exc:
            return _error(400, "invalid", exc.message, exc.field)
        message_id = payloads.new_wamid()
        webhook = payloads.whatsapp_webhook(
            wa_id=phone.removeprefix("+"),
            phone_number_id=getattr(container.settings, "whatsapp_phone_number_id", None) or PHONE_NUMBER_ID,
            display_phone_number=self.sandbox.config.whatsapp_display_phone_number,
            message_id=message_id,
            sent_at=container.clock.now(),
            text=text,
            reply=reply,
        )
        signed = payloads.sign_whatsapp(webhook, container.settings.whatsapp_app_secret.get_secret_value())
        path = "/channels/whatsapp"
        response = await _forward(request, path, content=signed.content, headers=signed.headers)
        return _forwarded(path, response, phone, message_id=message_id)

    async def sms(self, request: Request) -> Response:
        """Send an SMS as the phone: the inbound form of the configured SMS provider."""
        container: Container = request.app.state.container
        settings = container.settings
        try:
            body = await _json(request)
            phone = _phone(body.get("phone"))
            text = _text(body, "sms")
        except BadRequest as exc:
            return _error(400, "invalid", exc.message, exc.field)
        if settings.sms_provider == "twilio":
            path = "/channels/twilio/sms"
            token = settings.twilio_auth_token.get_secret_value()
            form = payloads.twilio_sms(
                phone=phone, to=settings.twilio_from, text=text, account_sid=settings.twilio_account_sid
            )
            headers = {"X-Twilio-Signature": payloads.twilio_signature(f"{settings.public_url}{path}", form, token)}
        else:
            path = "/channels/africastalking/sms"
            short_code = settings.africastalking_sender_id or SMS_SHORT_CODE
            form = payloads.africastalking_sms(
                phone=phone, short_code=short_code, text=text, received_at=container.clock.now()
            )
            headers = {}
        response = await _forward(request, path, data=form, headers=headers)
        return _forwarded(path, response, phone)


async def _forward(
    request: Request,
    path: str,
    *,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST to one of our own public routes through the whole app (middleware included)."""
    container: Container = request.app.state.container
    transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=container.settings.public_url) as client:
        return await client.post(path, content=content, data=data, headers=headers)


def _forwarded(path: str, response: httpx.Response, phone: str, **extra: str) -> Response:
    if response.status_code >= 400:
        _logger.warning("simulator: %s answered %s for %s", path, response.status_code, mask(phone))
        return _error(502, "route_failed", f"{path} answered HTTP {response.status_code}")
    inline = []
    if "xml" in response.headers.get("content-type", ""):
        # Twilio routes may answer with TwiML; those replies never pass through the sandbox.
        inline = [html.unescape(re.sub(r"<[^>]+>", "", part)).strip() for part in _TWIML_MESSAGE.findall(response.text)]
    return JSONResponse({"path": path, "status": response.status_code, "inline_replies": inline, **extra})


def simulator_routes(sandbox: Sandbox) -> list[BaseRoute]:
    """Return the page, its static files and its API (mounted in sandbox mode only)."""
    api = SimulatorApi(sandbox)
    return [
        Route("/simulator", api.page, methods=["GET"]),
        Mount("/simulator/static", app=StaticFiles(directory=STATIC), name="simulator-static"),
        Route("/simulator/api/config", api.config, methods=["GET"]),
        Route("/simulator/api/balances", api.balances, methods=["GET"]),
        Route("/simulator/api/whatsapp", api.whatsapp, methods=["POST"]),
        Route("/simulator/api/sms", api.sms, methods=["POST"]),
    ]
