"""Twilio Messages: the 201 resource, Twilio-shaped errors and signed status callbacks."""

from __future__ import annotations

import re

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.bot.sandbox.helpers import TWILIO_STATUS, Env

pytestmark = pytest.mark.anyio

SID = "AC" + "0" * 32
TOKEN = "sandbox-twilio-auth-token"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


async def create(
    env: Env, path: str = MESSAGES, auth: tuple[str, str] = (SID, TOKEN), **overrides: str
) -> httpx.Response:
    form = {"To": "+254712345678", "From": "+15005550006", "Body": "Your balance is KES 1,200", **overrides}
    return await env.api.post(path, data={k: v for k, v in form.items() if v is not None}, auth=auth)


async def test_create_returns_the_message_resource(env: Env) -> None:
    response = await create(env)

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    message = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    assert message["status"] == "queued"
    assert message["account_sid"] == SID
    assert message["to"] == "+254712345678"
    assert message["from"] == "+15005550006"
    assert message["body"] == "Your balance is KES 1,200"
    assert message["direction"] == "outbound-api"
    assert message["api_version"] == "2010-04-01"
    assert message["num_segments"] == "1"
    assert message["error_code"] is None
    assert message["uri"] == f"/2010-04-01/Accounts/{SID}/Messages/{message['sid']}.json"
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", message["date_created"])
    [item] = env.sandbox.outbox.items(provider="twilio")
    assert (item.to, item.ids["sid"], item.body) == ("+254712345678", message["sid"], "Your balance is KES 1,200")


async def test_messaging_service_sender(env: Env) -> None:
    response = await create(env, From="", MessagingServiceSid="MG" + "1" * 32)

    assert response.status_code == 201
    assert response.json()["messaging_service_sid"] == "MG" + "1" * 32
    assert response.json()["from"] is None


async def test_status_callbacks_are_signed(env: Env) -> None:
    sid = (await create(env, StatusCallback=TWILIO_STATUS)).json()["sid"]
    await env.sandbox.drain()

    requests = env.receiver.at(TWILIO_STATUS)
    forms = env.receiver.forms_at(TWILIO_STATUS)
    assert [form["MessageStatus"] for form in forms] == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for request, form in zip(requests, forms, strict=True):
        assert form["MessageSid"] == form["SmsSid"] == sid
        assert form["AccountSid"] == SID
        assert (form["To"], form["From"]) == ("+254712345678", "+15005550006")
        assert "ErrorCode" not in form
        signature = request.headers["X-Twilio-Signature"]
        assert validator.validate(TWILIO_STATUS, form, signature)
        assert not validator.validate(TWILIO_STATUS, {**form, "MessageStatus": "failed"}, signature)
        assert not RequestValidator("other-token").validate(TWILIO_STATUS, form, signature)


async def test_undelivered_number_reports_error_code(env: Env) -> None:
    await create(env, To="+254708000013", StatusCallback=TWILIO_STATUS)
    await env.sandbox.drain()

    sent, undelivered = env.receiver.forms_at(TWILIO_STATUS)
    assert sent["MessageStatus"] == "sent"
    assert undelivered["MessageStatus"] == "undelivered"
    assert undelivered["ErrorCode"] == "30003"


async def test_no_callbacks_without_status_callback(env: Env) -> None:
    await create(env)
    await env.sandbox.drain()

    assert env.receiver.requests == []


async def test_unsubscribed_number_gets_21610(env: Env) -> None:
    response = await create(env, To="+254708000009", StatusCallback=TWILIO_STATUS)
    await env.sandbox.drain()

    assert response.status_code == 400
    assert response.json() == {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    assert env.receiver.requests == []
    assert env.sandbox.outbox.items() == []


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        (MESSAGES, (SID, "wrong")),
        (MESSAGES, ("AC" + "1" * 32, TOKEN)),
        ("/2010-04-01/Accounts/AC" + "1" * 32 + "/Messages.json", (SID, TOKEN)),
    ],
)
async def test_bad_credentials_get_20003(env: Env, path: str, auth: tuple[str, str]) -> None:
    response = await create(env, path=path, auth=auth)

    assert response.status_code == 401
    assert response.json()["code"] == 20003


async def test_missing_basic_auth_gets_20003(env: Env) -> None:
    response = await env.api.post(MESSAGES, data={"To": "+254712345678", "From": "+1500", "Body": "x"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"To": ""}, 21604),
        ({"From": ""}, 21603),
        ({"Body": ""}, 21602),
        ({"Body": "x" * 1601}, 21617),
        ({"To": "0712345678"}, 21211),
    ],
)
async def test_invalid_requests(env: Env, overrides: dict[str, str], code: int) -> None:
    response = await create(env, **overrides)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["status"] == 400
