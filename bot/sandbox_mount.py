"""The provider sandbox and the simulator page inside the main app, in sandbox mode only.

The sandbox is configured from the same settings our adapters use, so the credentials they
send are exactly the ones it expects, and its callbacks, delivery reports and status webhooks go
to our own public routes under ``public_url``: over real sockets when uvicorn serves the app
(``jumbe demo``), or straight into the app in tests that call :func:`loop_back`.
"""

from __future__ import annotations

import logging
import re

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from bot.sandbox import Sandbox, SandboxConfig, create_sandbox_app, sandbox_of
from bot.settings import Settings
from bot.simulator.routes import simulator_routes

SANDBOX_PATH = "/sandbox"
_CALLBACK_TOKEN = re.compile(r"(/payments/mpesa/callback/)[^/?\s\"]+")


class _RedactCallbackUrls(logging.Filter):
    """httpx logs every request URL; the sandbox's callback URLs carry per-payment secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _CALLBACK_TOKEN.sub(r"\1***", str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        return True


_redact = _RedactCallbackUrls()


def sandbox_config(settings: Settings) -> SandboxConfig:
    """Return the sandbox's config: our own credentials, and our own routes as callback targets."""
    return SandboxConfig(
        callback_delay_seconds=settings.sandbox_callback_delay,
        daraja_consumer_key=settings.mpesa_consumer_key.get_secret_value(),
        daraja_consumer_secret=settings.mpesa_consumer_secret.get_secret_value(),
        daraja_shortcode=settings.mpesa_shortcode,
        daraja_passkey=settings.mpesa_passkey.get_secret_value(),
        manual_approval=settings.sandbox_manual_approval,
        twilio_account_sid=settings.twilio_account_sid,
        twilio_auth_token=settings.twilio_auth_token.get_secret_value(),
        whatsapp_token=settings.whatsapp_token.get_secret_value(),
        whatsapp_app_secret=settings.whatsapp_app_secret.get_secret_value(),
        whatsapp_status_webhook_url=f"{settings.public_url}/channels/whatsapp",
        at_username=settings.africastalking_username,
        at_api_key=settings.africastalking_api_key.get_secret_value(),
        at_delivery_report_url=f"{settings.public_url}/channels/africastalking/sms/delivery",
    )


class CallbackTransport(httpx.AsyncBaseTransport):
    """Carries the sandbox's callbacks: over the network, or into one ASGI app once looped back."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()
        self._inner: httpx.AsyncBaseTransport = self._network

    def loop_back(self, app: ASGIApp) -> None:
        """Deliver every callback straight into ``app`` (tests: no sockets, same event loop)."""
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


def routes(settings: Settings) -> list[BaseRoute]:
    """Return the /sandbox mount and the /simulator routes in sandbox mode, nothing in live mode."""
    if not settings.sandbox:
        return []
    logging.getLogger("httpx").addFilter(_redact)  # adding the same filter twice is a no-op
    transport = CallbackTransport()
    client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0))
    sandbox_app = create_sandbox_app(sandbox_config(settings), client=client)
    sandbox_app.state.callback_transport = transport
    return [Mount(SANDBOX_PATH, app=sandbox_app, name="sandbox"), *simulator_routes(sandbox_of(sandbox_app))]


def _mounted(app: Starlette) -> Starlette | None:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == SANDBOX_PATH and isinstance(route.app, Starlette):
            return route.app
    return None


def sandbox_in(app: Starlette) -> Sandbox | None:
    """Return the sandbox mounted in the main app (outbox, drain), or None in live mode."""
    mounted = _mounted(app)
    return sandbox_of(mounted) if mounted is not None else None


def loop_back(app: Starlette) -> Sandbox:
    """Make the mounted sandbox call back into ``app`` in-process; return the sandbox."""
    mounted = _mounted(app)
    if mounted is None:
        raise LookupError("no sandbox is mounted (provider_mode is live)")
    transport = mounted.state.callback_transport
    assert isinstance(transport, CallbackTransport)
    transport.loop_back(app)
    return sandbox_of(mounted)


async def close(app: Starlette) -> None:
    """Cancel pending sandbox deliveries and close its HTTP client (the app's shutdown)."""
    sandbox = sandbox_in(app)
    if sandbox is not None:
        await sandbox.aclose()
        await sandbox.client.aclose()


def end_streams(app: Starlette) -> None:
    """End the simulator's open event streams, so a stopping server need not wait for them."""
    sandbox = sandbox_in(app)
    if sandbox is not None:
        sandbox.outbox.end_streams()
