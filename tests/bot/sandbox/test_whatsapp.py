"""WhatsApp Cloud API: message limits, Graph errors, test numbers and signed status webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from bot.sandbox import SandboxConfig
from tests.bot.sandbox.helpers import WHATSAPP_WEBHOOK, Env

pytestmark = pytest.mark.anyio

PATH = "/v21.0/1122334455667/messages"
TOKEN = {"Authorization": "Bearer sandbox-whatsapp-token"}
SECRET = b"sandbox-whatsapp-app-secret"


def text(body: str = "Habari", to: str = "254712345678") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def buttons(*titles: str) -> dict[str, Any]:
    action = {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]}
    interactive = {"type": "button", "body": {"text": "Pay KES 500 now?"}, "action": action}
    return {"messaging_product": "whatsapp", "to": "254712345678", "type": "interactive", "interactive": interactive}


def rows(count: int, title: str = "Row", description: str = "What it does") -> list[dict[str, str]]:
    return [{"id": f"r{i}", "title": title, "description": description} for i in range(count)]


def listing(*sections: list[dict[str, str]], button: str = "Choose") -> dict[str, Any]:
    action = {"button": button, "sections": [{"title": f"Section {i}", "rows": r} for i, r in enumerate(sections)]}
    interactive = {"type": "list", "body": {"text": "Main menu"}, "footer": {"text": "Jumbe"}, "action": action}
    return {"messaging_product": "whatsapp", "to": "254712345678", "type": "interactive", "interactive": interactive}


def template(to: str = "254712345678") -> dict[str, Any]:
    parameters = [{"type": "text", "text": "Amina"}, {"type": "text", "text": "KES 500"}]
    body = {"name": "loan_due", "language": {"code": "sw"}, "components": [{"type": "body", "parameters": parameters}]}
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": body}


async def send(env: Env, payload: dict[str, Any], path: str = PATH, headers: dict[str, str] = TOKEN) -> httpx.Response:
    return await env.api.post(path, json=payload, headers=headers)


def statuses(env: Env) -> list[dict[str, Any]]:
    result = []
    for request in env.receiver.at(WHATSAPP_WEBHOOK):
        expected = "sha256=" + hmac.new(SECRET, request.content, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["X-Hub-Signature-256"], expected)
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        assert body["object"] == "whatsapp_business_account"
        [entry] = body["entry"]
        [change] = entry["changes"]
        assert change["field"] == "messages"
        assert change["value"]["messaging_product"] == "whatsapp"
        assert change["value"]["metadata"]["phone_number_id"] == "1122334455667"
        assert "messages" not in change["value"]
        [status] = change["value"]["statuses"]
        result.append(status)
    return result


async def test_text_is_accepted_then_sent_and_delivered(env: Env) -> None:
    response = await send(env, text(to="+254712345678"))
    await env.sandbox.drain()

    assert response.status_code == 200
    body = response.json()
    wamid = body["messages"][0]["id"]
    assert body == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+254712345678", "wa_id": "254712345678"}],
        "messages": [{"id": wamid}],
    }
    assert wamid.startswith("wamid.")
    sent, delivered = statuses(env)
    assert [sent["status"], delivered["status"]] == ["sent", "delivered"]
    for status in (sent, delivered):
        assert status["id"] == wamid
        assert status["recipient_id"] == "254712345678"
        assert status["timestamp"].isdigit()
        assert status["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "service"}
        assert status["conversation"]["origin"] == {"type": "service"}
    [item] = env.sandbox.outbox.items(provider="whatsapp")
    assert (item.to, item.kind, item.body, item.ids["wamid"]) == ("+254712345678", "text", "Habari", wamid)


async def test_buttons_and_list_at_their_limits_are_accepted(env: Env) -> None:
    assert (await send(env, buttons("Pay now", "Later", "x" * 20))).status_code == 200
    ten = listing(rows(4, "y" * 24, "d" * 72), [{"id": f"s{i}", "title": "Row"} for i in range(6)])
    assert (await send(env, ten)).status_code == 200
    assert (await send(env, text("z" * 4096))).status_code == 200

    interactive = env.sandbox.outbox.items(kind="interactive")
    assert interactive[0].body == "Pay KES 500 now?\n[Pay now] [Later] [xxxxxxxxxxxxxxxxxxxx]"
    assert "* yyyyyyyyyyyyyyyyyyyyyyyy - " + "d" * 72 in interactive[1].body


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (buttons("A", "B", "C", "D"), 131009),
        (buttons("x" * 21), 131009),
        (buttons("Same", "Same"), 131009),
        (buttons(""), 131008),
        (listing(rows(6), [{"id": f"s{i}", "title": "Row"} for i in range(5)]), 131009),
        (listing(rows(1, "y" * 25)), 131009),
        (listing(rows(1, "Row", "d" * 73)), 131009),
        (listing(rows(1), button="b" * 21), 131009),
        (text("z" * 4097), 131009),
        (text(""), 131008),
        ({**text(), "type": "sticker"}, 131009),
        ({**text(), "messaging_product": None}, 100),
        ({k: v for k, v in text().items() if k != "to"}, 131008),
        (
            {"messaging_product": "whatsapp", "to": "254712345678", "type": "template", "template": {"name": "x"}},
            131008,
        ),
    ],
)
async def test_limit_violations_get_graph_errors(env: Env, payload: dict[str, Any], code: int) -> None:
    response = await send(env, payload)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]
    assert error["fbtrace_id"]
    assert env.sandbox.outbox.items() == []


async def test_two_sections_need_titles(env: Env) -> None:
    payload = listing(rows(1), [{"id": "s", "title": "Row"}])
    del payload["interactive"]["action"]["sections"][1]["title"]

    assert (await send(env, payload)).json()["error"]["code"] == 131008


async def test_template_is_accepted(env: Env) -> None:
    response = await send(env, template())

    assert response.json()["messages"][0]["message_status"] == "accepted"
    [item] = env.sandbox.outbox.items(kind="template")
    assert item.body == "[template loan_due/sw]: Amina | KES 500"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
async def test_bad_token_gets_190(env: Env, headers: dict[str, str]) -> None:
    response = await send(env, text(), headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


async def test_bad_version_is_refused(env: Env) -> None:
    assert (await send(env, text(), path="/latest/1122334455667/messages")).status_code == 400


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(callback_delay_seconds=0, whatsapp_phone_number_id="1122334455667")]
)
async def test_unknown_phone_number_id_is_refused(env: Env) -> None:
    assert (await send(env, text())).status_code == 200
    response = await send(env, text(), path="/v21.0/999/messages")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_invalid_json_is_refused(env: Env) -> None:
    response = await env.api.post(PATH, content=b"[", headers=TOKEN)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_mark_as_read(env: Env) -> None:
    payload = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.xyzxyz"}

    response = await send(env, payload)
    await env.sandbox.drain()

    assert response.json() == {"success": True}
    assert env.receiver.requests == []


async def test_outside_window_fails_free_form_with_131047(env: Env) -> None:
    response = await send(env, text(to="254708000010"))
    await env.sandbox.drain()

    assert response.status_code == 200
    [failed] = statuses(env)
    assert failed["status"] == "failed"
    assert failed["id"] == response.json()["messages"][0]["id"]
    [error] = failed["errors"]
    assert error["code"] == 131047
    assert error["title"] == "Re-engagement message"
    assert "24 hours" in error["error_data"]["details"]
    [item] = env.sandbox.outbox.items()
    assert (item.status, item.error) == ("failed", "131047")


async def test_outside_window_still_delivers_templates(env: Env) -> None:
    await send(env, template(to="254708000010"))
    await env.sandbox.drain()

    assert [status["status"] for status in statuses(env)] == ["sent", "delivered"]
    assert statuses(env)[0]["pricing"]["category"] == "utility"


@pytest.mark.parametrize("phone", ["254708000009", "254708000013"])
async def test_undeliverable_numbers_fail_with_131026(env: Env, phone: str) -> None:
    await send(env, template(to=phone))
    await env.sandbox.drain()

    [failed] = statuses(env)
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131026


async def test_rate_limited_number_gets_429(env: Env) -> None:
    response = await send(env, text(to="254708000011"))
    await env.sandbox.drain()

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"]["code"] == 130429
    assert response.json()["error"]["message"] == "(#130429) Rate limit hit"
    assert env.receiver.requests == []


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(callback_delay_seconds=0)])
async def test_no_webhook_without_a_url(env: Env) -> None:
    await send(env, text())
    await env.sandbox.drain()

    assert env.receiver.requests == []
