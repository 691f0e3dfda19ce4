"""Africa's Talking SMS: per-recipient results inside a 201, XML without Accept, delivery reports."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from bot.sandbox import SandboxConfig
from tests.bot.sandbox.helpers import AT_DELIVERY, Env

pytestmark = pytest.mark.anyio

JSON = {"apiKey": "sandbox-at-api-key", "Accept": "application/json"}


async def send(env: Env, headers: dict[str, str] | None = None, **form: Any) -> httpx.Response:
    data = {"username": "sandbox", "to": "+254712345678", "message": "Habari! Salio lako ni KES 1,200.", **form}
    return await env.api.post("/version1/messaging", data=data, headers=JSON if headers is None else headers)


async def test_send_answers_201_with_exact_json_content_type(env: Env) -> None:
    response = await send(env, to="+254712345678,+254708000009", **{"from": "JUMBE"})

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    data = response.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 1/2 Total Cost: KES 0.8000 Message parts: 1"
    ok, failed = data["Recipients"]
    assert ok["statusCode"] == 101
    assert ok["status"] == "Success"
    assert ok["number"] == "+254712345678"
    assert ok["cost"] == "KES 0.8000"
    assert re.fullmatch(r"ATXid_[0-9a-f]{32}", ok["messageId"])
    assert failed == {
        "cost": "0",
        "messageId": "None",
        "number": "+254708000009",
        "status": "InvalidPhoneNumber",
        "statusCode": 403,
    }


async def test_send_records_each_recipient(env: Env) -> None:
    await send(env, to="+254712345678, +254708000009", **{"from": "JUMBE"})

    delivered, failed = env.sandbox.outbox.items(provider="africastalking")
    assert (delivered.to, delivered.status, delivered.sender, delivered.kind) == (
        "+254712345678",
        "accepted",
        "JUMBE",
        "sms",
    )
    assert delivered.body == "Habari! Salio lako ni KES 1,200."
    assert (failed.to, failed.status, failed.error) == ("+254708000009", "failed", "InvalidPhoneNumber")


async def test_malformed_number_fails_per_recipient(env: Env) -> None:
    response = await send(env, to="0712345678")

    [recipient] = response.json()["SMSMessageData"]["Recipients"]
    assert recipient["statusCode"] == 403


async def test_long_message_costs_two_parts(env: Env) -> None:
    response = await send(env, message="x" * 200)

    data = response.json()["SMSMessageData"]
    assert data["Message"].endswith("Total Cost: KES 1.6000 Message parts: 2")
    assert data["Recipients"][0]["cost"] == "KES 1.6000"


@pytest.mark.parametrize(
    ("headers", "form"),
    [
        ({"apiKey": "wrong", "Accept": "application/json"}, {}),
        ({"Accept": "application/json"}, {}),
        (JSON, {"username": "someone-else"}),
    ],
)
async def test_bad_credentials_are_refused_in_plain_text(
    env: Env, headers: dict[str, str], form: dict[str, str]
) -> None:
    response = await send(env, headers=headers, **form)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "The supplied authentication is invalid"


@pytest.mark.parametrize("missing", ["to", "message"])
async def test_missing_field_is_refused(env: Env, missing: str) -> None:
    response = await send(env, **{missing: ""})

    assert response.status_code == 400
    assert missing in response.text


async def test_without_accept_json_the_answer_is_xml(env: Env) -> None:
    response = await send(env, headers={"apiKey": "sandbox-at-api-key"})

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/xml"
    assert "<AfricasTalkingResponse><SMSMessageData>" in response.text
    assert "<statusCode>101</statusCode>" in response.text


async def test_delivery_reports_are_posted(env: Env) -> None:
    response = await send(env, to="+254712345678,+254708000013,+254708000009")
    await env.sandbox.drain()

    ok_id, failed_id, _ = (r["messageId"] for r in response.json()["SMSMessageData"]["Recipients"])
    delivered, failed = env.receiver.forms_at(AT_DELIVERY)
    assert delivered == {
        "id": ok_id,
        "status": "Success",
        "phoneNumber": "+254712345678",
        "networkCode": "63902",
        "retryCount": "0",
    }
    assert failed["id"] == failed_id
    assert failed["status"] == "Failed"
    assert failed["failureReason"] == "AbsentSubscriber"
    assert env.receiver.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(callback_delay_seconds=0)])
async def test_no_delivery_reports_without_a_url(env: Env) -> None:
    await send(env)
    await env.sandbox.drain()

    assert env.receiver.requests == []
