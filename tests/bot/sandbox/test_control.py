"""Control API: outbox listing and clearing, the SSE event stream, test numbers, mounting and running."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from bot.sandbox import SandboxConfig, create_sandbox_app, sandbox_of
from bot.sandbox import control as control_module
from bot.sandbox.__main__ import config_from_args, parse_args
from bot.sandbox.numbers import MESSAGE_TEST_NUMBERS, STK_TEST_NUMBERS
from tests.bot.sandbox.helpers import PAYER, Env, push

DOC = Path(__file__).resolve().parents[3] / "docs" / "sandbox.md"
AT_HEADERS = {"apiKey": "sandbox-at-api-key", "Accept": "application/json"}


async def sms(env: Env, to: str, message: str = "Hi") -> None:
    form = {"username": "sandbox", "to": to, "message": message}
    response = await env.api.post("/version1/messaging", data=form, headers=AT_HEADERS)
    assert response.status_code == 201


@pytest.mark.anyio
async def test_outbox_lists_and_filters(env: Env) -> None:
    await sms(env, "+254712345678", "one")
    await sms(env, "+254799999999", "two")
    await push(env)
    await env.sandbox.drain()

    everything = (await env.api.get("/sandbox-control/outbox")).json()["items"]
    assert [item["kind"] for item in everything] == ["sms", "sms", "stk_push", "mpesa_receipt"]
    assert [item["seq"] for item in everything] == [1, 2, 3, 4]
    mine = (await env.api.get("/sandbox-control/outbox", params={"to": "+254712345678"})).json()["items"]
    assert [item["body"] for item in mine][0] == "one"
    assert len(mine) == 3
    assert mine == (await env.api.get("/sandbox-control/outbox", params={"to": PAYER})).json()["items"]
    sms_only = await env.api.get("/sandbox-control/outbox", params={"provider": "africastalking", "to": PAYER})
    assert [item["body"] for item in sms_only.json()["items"]] == ["one"]
    receipts = await env.api.get("/sandbox-control/outbox", params={"kind": "mpesa_receipt"})
    assert len(receipts.json()["items"]) == 1
    first = everything[0]
    assert set(first) == {"seq", "provider", "kind", "to", "sender", "body", "payload", "ids", "status", "error", "at"}


@pytest.mark.anyio
async def test_outbox_clear(env: Env) -> None:
    await sms(env, PAYER)

    response = await env.api.delete("/sandbox-control/outbox")

    assert response.status_code == 204
    assert (await env.api.get("/sandbox-control/outbox")).json() == {"items": []}
    await sms(env, PAYER)
    assert env.sandbox.outbox.items()[0].seq == 2


@pytest.mark.anyio
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(callback_delay_seconds=0, outbox_limit=3)])
async def test_outbox_is_bounded(env: Env) -> None:
    for index in range(5):
        await sms(env, PAYER, f"m{index}")

    assert [item.body for item in env.sandbox.outbox.items()] == ["m2", "m3", "m4"]


@pytest.mark.anyio
async def test_wait_for_an_item_that_arrives_later(env: Env) -> None:
    async def later() -> None:
        await asyncio.sleep(0.01)
        await sms(env, "+254711000111", "late")

    task = asyncio.create_task(later())
    item = await env.sandbox.outbox.wait_for(to="254711000111", provider="africastalking", timeout=2)
    await task

    assert item.body == "late"
    assert await env.sandbox.outbox.wait_for(to="254711000111", timeout=0.1) == item
    with pytest.raises(TimeoutError):
        await env.sandbox.outbox.wait_for(to="254711000111", after_seq=item.seq, timeout=0.05)


class SseClient:
    """Drives the SSE endpoint over raw ASGI, since the test transports buffer whole responses."""

    def __init__(self, app: Starlette, query: bytes = b"") -> None:
        self.app = app
        self.query = query
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SseClient:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/sandbox-control/events",
            "raw_path": b"/sandbox-control/events",
            "query_string": self.query,
            "root_path": "",
            "headers": [(b"host", b"sandbox"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 50000),
            "server": ("sandbox", 80),
            "state": {},
        }
        self.task = asyncio.create_task(self.app(scope, self._receive, self.messages.put))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closed.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 2)

    async def _receive(self) -> dict[str, Any]:
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), 2)

    async def chunk(self) -> str:
        message = await self.next()
        assert message["type"] == "http.response.body"
        assert message["more_body"] is True
        return bytes(message["body"]).decode()


def parse_event(chunk: str) -> tuple[str, dict[str, Any]]:
    fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    return fields["event"], json.loads(fields["data"])


@pytest.mark.anyio
@pytest.mark.parametrize("sandbox_config", [SandboxConfig(callback_delay_seconds=0, manual_approval=True)])
async def test_event_stream_sends_outbox_items_and_prompt_changes(env: Env) -> None:
    async with SseClient(env.app) as stream:
        start = await stream.next()
        assert start["status"] == 200
        assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
        assert (b"cache-control", b"no-cache") in start["headers"]
        assert await stream.chunk() == ": connected\n\n"

        await sms(env, "+254712345678", "Karibu")
        chunk = await stream.chunk()
        assert chunk.startswith("id: 1\nevent: outbox\n")
        name, data = parse_event(chunk)
        assert (name, data["body"], data["to"]) == ("outbox", "Karibu", "+254712345678")

        checkout_id = (await push(env)).json()["CheckoutRequestID"]
        assert parse_event(await stream.chunk())[1]["kind"] == "stk_push"
        name, prompt = parse_event(await stream.chunk())
        assert (name, prompt["checkout_request_id"], prompt["status"]) == ("prompt", checkout_id, "pending")

        await env.api.post(f"/sandbox-control/prompts/{checkout_id}", json={"action": "cancel"})
        name, prompt = parse_event(await stream.chunk())
        assert (name, prompt["status"]) == ("prompt", "cancelled")

        await env.api.delete("/sandbox-control/outbox")
        assert parse_event(await stream.chunk()) == ("cleared", {})
        await env.sandbox.drain()

    assert env.sandbox.outbox._subscribers == set()


@pytest.mark.anyio
async def test_event_stream_for_one_phone(env: Env) -> None:
    async with SseClient(env.app, query=b"to=%2B254711000222") as stream:
        await stream.next()
        await stream.chunk()
        await sms(env, "+254799999999", "not mine")
        await sms(env, "+254711000222", "mine")

        assert parse_event(await stream.chunk())[1]["body"] == "mine"


@pytest.mark.anyio
async def test_event_stream_keeps_idle_connections_alive(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_module, "KEEPALIVE_SECONDS", 0.01)

    async with SseClient(env.app) as stream:
        await stream.next()
        await stream.chunk()

        assert await stream.chunk() == ": keep-alive\n\n"


@pytest.mark.anyio
async def test_numbers_endpoint(env: Env) -> None:
    body = (await env.api.get("/sandbox-control/numbers")).json()

    assert {row["phone"] for row in body["stk_push"]} == set(STK_TEST_NUMBERS)
    assert {row["phone"] for row in body["messages"]} == {"+" + phone for phone in MESSAGE_TEST_NUMBERS}


def test_every_test_number_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")

    for phone in [*STK_TEST_NUMBERS, *MESSAGE_TEST_NUMBERS]:
        assert phone in doc, phone


def test_app_mounts_under_a_prefix_and_closes_its_client() -> None:
    sandbox_app = create_sandbox_app(SandboxConfig(callback_delay_seconds=0))
    main = Starlette(routes=[Mount("/sandbox", app=sandbox_app)])

    with TestClient(main) as client:
        response = client.get(
            "/sandbox/oauth/v1/generate?grant_type=client_credentials",
            auth=("sandbox-consumer-key", "sandbox-consumer-secret"),
        )
        assert response.status_code == 200
        assert client.get("/sandbox/sandbox-control/numbers").status_code == 200


def test_own_lifespan_closes_the_created_client() -> None:
    app = create_sandbox_app(SandboxConfig())
    sandbox = sandbox_of(app)

    with TestClient(app):
        client = sandbox.client
    assert client.is_closed


def test_injected_client_is_left_open() -> None:
    injected = httpx.AsyncClient()
    app = create_sandbox_app(SandboxConfig(), client=injected)

    with TestClient(app):
        pass
    assert not injected.is_closed


def test_command_line() -> None:
    args = parse_args(
        ["--port", "9000", "--callback-delay", "0.5", "--manual", "--whatsapp-webhook-url", "http://x/wa"]
    )
    config = config_from_args(args)

    assert args.port == 9000
    assert config.callback_delay_seconds == 0.5
    assert config.manual_approval is True
    assert config.whatsapp_status_webhook_url == "http://x/wa"
    assert config.at_delivery_report_url is None


def test_config_repr_hides_secrets() -> None:
    config = SandboxConfig(twilio_auth_token="s3cret-token", whatsapp_app_secret="app-s3cret", daraja_passkey="pk")

    assert "s3cret" not in repr(config)
    assert "daraja_passkey" not in repr(config)
