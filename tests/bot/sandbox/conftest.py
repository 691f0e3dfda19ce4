"""Fixtures: a sandbox app with zero delays, driven over ASGI, delivering callbacks to a recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sandbox import SandboxConfig, create_sandbox_app, sandbox_of
from tests.bot.sandbox.helpers import AT_DELIVERY, WHATSAPP_WEBHOOK, Env, Receiver


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        callback_delay_seconds=0,
        lost_callback_settle_seconds=0,
        prompt_timeout_seconds=5,
        whatsapp_status_webhook_url=WHATSAPP_WEBHOOK,
        at_delivery_report_url=AT_DELIVERY,
    )


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def env(sandbox_config: SandboxConfig, receiver: Receiver) -> AsyncIterator[Env]:
    outgoing = httpx.AsyncClient(transport=httpx.MockTransport(receiver.handler))
    app = create_sandbox_app(sandbox_config, client=outgoing)
    sandbox = sandbox_of(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as api:
        yield Env(app=app, sandbox=sandbox, api=api, receiver=receiver)
    await sandbox.aclose()
    await outgoing.aclose()
