"""The /simulator page and API over HTTP: served in sandbox mode only, balances, signed forwarding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bot import demo
from bot.app import create_app
from bot.settings import Settings
from channels.sms import twilio
from channels.whatsapp import parse_webhook, verify_signature

LIVE_SECRETS = {
    name: "live-value"
    for name in (
        "whatsapp_token",
        "whatsapp_app_secret",
        "africastalking_api_key",
        "twilio_auth_token",
        "mpesa_consumer_key",
        "mpesa_consumer_secret",
    )
}


class Recorder:
    """Stands in for one of our channel routes and keeps what the simulator forwarded to it."""

    def __init__(self, answer: Response | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answer = answer

    async def handle(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        return self.answer or PlainTextResponse("ok")


def intercept(client: TestClient, path: str, recorder: Recorder) -> None:
    client.app.router.routes.insert(0, Route(path, recorder.handle, methods=["POST"]))  # type: ignore[attr-defined]


def test_page_and_assets_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/simulator")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/simulator/static/simulator.js"></script>' in page.text
    assets = {"simulator.css": "text/css"}
    # ES modules need a JavaScript content type; every module the page imports must be served.
    assets |= {f"{name}.js": "javascript" for name in ("simulator", "util", "ussd", "chat", "prompt", "ledger")}
    for asset, kind in assets.items():
        response = client.get(f"/simulator/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"], asset
    assert client.get("/simulator/static/../routes.py").status_code == 404


def test_config_names_the_demo_phones_and_limits(client: TestClient) -> None:
    config = client.get("/simulator/api/config").json()
    assert config["ussd_code"] == demo.USSD_CODE
    assert [p["phone"] for p in config["phones"]] == [demo.MEMBER_PHONE, demo.AGENT_PHONE]
    assert config["ussd_limit"] == 182
    assert config["manual_approval"] is False  # tests keep automatic outcomes unless they opt in


@pytest.fixture
def live_client(tmp_path: Any) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/live.db",
        public_url="https://jumbe.example",
        provider_mode="live",
        **LIVE_SECRETS,  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings=settings)) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    ["/simulator", "/simulator/static/simulator.js", "/simulator/api/config", "/sandbox/sandbox-control/outbox"],
)
def test_live_mode_serves_neither_simulator_nor_sandbox(live_client: TestClient, path: str) -> None:
    assert live_client.get(path).status_code == 404
    assert live_client.post("/simulator/api/whatsapp", json={"phone": demo.MEMBER_PHONE, "text": "hi"}).status_code in (
        404,
        405,
    )


def test_balances_come_from_the_ledger(client: TestClient) -> None:
    view = client.get("/simulator/api/balances", params={"phone": "0700 000001"}).json()
    assert view["member"]["name"] == "Amina Wanjiru"
    accounts = {account["label"]: account for account in view["accounts"]}
    assert accounts["Savings"]["minor"] == 1_250_000 and accounts["Savings"]["text"] == "KES 12,500"
    assert accounts["Shares"]["minor"] == 500_000
    assert accounts["Loan LN-0001"]["minor"] == 4_000_000
    assert view["next_installment"] == {
        "loan": "LN-0001",
        "due_date": "2026-11-28",
        "minor": 444_200,
        "text": "KES 4,442",
    }
    assert view["books_balanced"] is True
    assert view["recent"][0]["memo"] == "Loan LN-0001 disbursed"


def test_balances_of_a_stranger_and_of_junk(client: TestClient) -> None:
    stranger = client.get("/simulator/api/balances", params={"phone": "+254711999888"})
    assert stranger.status_code == 200 and stranger.json()["member"] is None
    junk = client.get("/simulator/api/balances", params={"phone": "not-a-phone"})
    assert junk.status_code == 400 and junk.json()["error"]["field"] == "phone"
    assert client.get("/simulator/api/balances").json()["error"]["field"] == "phone"


def test_whatsapp_message_is_signed_server_side_and_forwarded(client: TestClient) -> None:
    recorder = Recorder()
    intercept(client, "/channels/whatsapp", recorder)
    response = client.post("/simulator/api/whatsapp", json={"phone": demo.MEMBER_PHONE, "text": "hi"})
    assert response.status_code == 200, response.text
    [(headers, body)] = recorder.requests
    assert verify_signature(body, headers["x-hub-signature-256"], "sandbox-app-secret")
    [inbound] = parse_webhook(json.loads(body)).messages
    assert inbound.text == "hi" and inbound.phone_e164 == demo.MEMBER_PHONE
    assert inbound.provider_message_id == response.json()["message_id"]
    assert "secret" not in response.text


def test_whatsapp_tap_is_forwarded_as_a_choice(client: TestClient) -> None:
    recorder = Recorder()
    intercept(client, "/channels/whatsapp", recorder)
    reply = {"type": "list_reply", "id": "balance", "title": "Balances"}
    assert client.post("/simulator/api/whatsapp", json={"phone": demo.MEMBER_PHONE, "reply": reply}).status_code == 200
    [inbound] = parse_webhook(json.loads(recorder.requests[0][1])).messages
    assert inbound.choice_id == "balance"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12", "text": "hi"}, "phone"),
        ({"text": "hi"}, "phone"),
        ({"phone": demo.MEMBER_PHONE}, "text"),
        ({"phone": demo.MEMBER_PHONE, "text": "   "}, "text"),
        ({"phone": demo.MEMBER_PHONE, "text": "x" * 4097}, "text"),
        ({"phone": demo.MEMBER_PHONE, "reply": {"type": "poke", "id": "x"}}, "reply.type"),
        ({"phone": demo.MEMBER_PHONE, "reply": {"type": "button_reply", "id": ""}}, "reply.id"),
        ({"phone": demo.MEMBER_PHONE, "reply": "balance"}, "reply"),
    ],
)
def test_whatsapp_bad_input_names_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    recorder = Recorder()
    intercept(client, "/channels/whatsapp", recorder)
    response = client.post("/simulator/api/whatsapp", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert recorder.requests == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", "\udcff".encode("utf-8", "surrogatepass")])
def test_whatsapp_body_must_be_a_json_object(client: TestClient, raw: bytes) -> None:
    response = client.post("/simulator/api/whatsapp", content=raw)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_route_failure_is_reported_not_hidden(client: TestClient) -> None:
    intercept(client, "/channels/whatsapp", Recorder(PlainTextResponse("no", status_code=403)))
    response = client.post("/simulator/api/whatsapp", json={"phone": demo.MEMBER_PHONE, "text": "hi"})
    assert response.status_code == 502
    assert "answered HTTP 403" in response.json()["error"]["message"]


def test_sms_goes_to_africastalking_as_its_form(client: TestClient) -> None:
    recorder = Recorder()
    intercept(client, "/channels/africastalking/sms", recorder)
    response = client.post("/simulator/api/sms", json={"phone": demo.MEMBER_PHONE, "text": "BAL"})
    assert response.status_code == 200, response.text
    form = dict(parse_qsl(recorder.requests[0][1].decode()))
    assert form["from"] == demo.MEMBER_PHONE and form["text"] == "BAL" and form["id"]
    bad = client.post("/simulator/api/sms", json={"phone": demo.MEMBER_PHONE, "text": "x" * 1601})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "text"


def test_sms_through_twilio_is_signed_and_twiml_replies_come_back(client: TestClient) -> None:
    settings = client.app.state.container.settings  # type: ignore[attr-defined]
    settings.sms_provider = "twilio"
    twiml = '<?xml version="1.0"?><Response><Message>Savings: KES 12,500 &amp; more</Message></Response>'
    recorder = Recorder(Response(twiml, media_type="application/xml"))
    intercept(client, "/channels/twilio/sms", recorder)
    response = client.post("/simulator/api/sms", json={"phone": demo.MEMBER_PHONE, "text": "BAL"})
    assert response.status_code == 200, response.text
    assert response.json()["inline_replies"] == ["Savings: KES 12,500 & more"]
    headers, body = recorder.requests[0]
    form = dict(parse_qsl(body.decode()))
    url = f"{settings.public_url}/channels/twilio/sms"
    assert twilio.validate_signature(url, form, headers["x-twilio-signature"], "sandbox-twilio-token")
