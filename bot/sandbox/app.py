"""Assembles the provider sandbox into one Starlette app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from bot.sandbox.africastalking import AfricasTalking
from bot.sandbox.config import SandboxConfig
from bot.sandbox.control import Control
from bot.sandbox.daraja import Daraja
from bot.sandbox.runtime import Sandbox
from bot.sandbox.stk import Payer
from bot.sandbox.twilio import Twilio
from bot.sandbox.whatsapp import WhatsApp


def create_sandbox_app(config: SandboxConfig, *, client: httpx.AsyncClient | None = None) -> Starlette:
    """Build the fake Daraja, Africa's Talking, Twilio and WhatsApp providers plus the control API.

    Args:
        config: expected credentials, delays and delivery URLs.
        client: client for callbacks and webhooks; one is created on first use when omitted.

    Returns:
        The app; its `Sandbox` (outbox, drain, aclose) is at `app.state.sandbox`.
    """
    sandbox = Sandbox(config, client=client)
    payer = Payer(sandbox)
    routes = [
        *Daraja(sandbox, payer).routes(),
        *AfricasTalking(sandbox).routes(),
        *Twilio(sandbox).routes(),
        *Control(sandbox.outbox, payer).routes(),
        # Last: its /{version}/{phone_number_id}/messages pattern is the most general.
        *WhatsApp(sandbox).routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app


def sandbox_of(app: Starlette) -> Sandbox:
    """Return the sandbox state behind an app made by create_sandbox_app."""
    sandbox = app.state.sandbox
    assert isinstance(sandbox, Sandbox)
    return sandbox
