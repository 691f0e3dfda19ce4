"""The sandbox inside the main app: our own credentials, our own routes as callback targets."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine as DbEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bot import sandbox_mount
from bot.app import create_app
from bot.settings import Settings
from core.clock import FixedClock
from tests.conftest import make_container

PUBLIC = "http://jumbe.test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox_settings() -> Settings:
    return Settings(database_url="sqlite:///unused.db", public_url=PUBLIC, sandbox_callback_delay=0)


def test_config_is_built_from_our_settings(sandbox_settings: Settings) -> None:
    config = sandbox_mount.sandbox_config(sandbox_settings)
    assert config.daraja_consumer_key == sandbox_settings.mpesa_consumer_key.get_secret_value()
    assert config.daraja_passkey == sandbox_settings.mpesa_passkey.get_secret_value()
    assert config.daraja_shortcode == sandbox_settings.mpesa_shortcode
    assert config.whatsapp_token == sandbox_settings.whatsapp_token.get_secret_value()
    assert config.whatsapp_app_secret == sandbox_settings.whatsapp_app_secret.get_secret_value()
    assert config.at_api_key == sandbox_settings.africastalking_api_key.get_secret_value()
    assert config.twilio_account_sid == sandbox_settings.twilio_account_sid
    assert config.whatsapp_status_webhook_url == f"{PUBLIC}/channels/whatsapp"
    assert config.at_delivery_report_url == f"{PUBLIC}/channels/africastalking/sms/delivery"
    assert config.callback_delay_seconds == 0
    assert config.manual_approval is False
    manual = sandbox_settings.model_copy(update={"sandbox_manual_approval": True})
    assert sandbox_mount.sandbox_config(manual).manual_approval is True
    for secret in (config.whatsapp_app_secret, config.at_api_key, config.daraja_consumer_secret):
        assert secret not in repr(config)


def test_our_provider_urls_point_at_the_mount(sandbox_settings: Settings) -> None:
    for url in (
        sandbox_settings.mpesa_base_url,
        sandbox_settings.whatsapp_graph_url,
        sandbox_settings.africastalking_sms_url,
        sandbox_settings.twilio_api_url,
    ):
        assert url == f"{PUBLIC}{sandbox_mount.SANDBOX_PATH}"


def _password(timestamp: str, settings: Settings) -> str:
    raw = f"{settings.mpesa_shortcode}{settings.mpesa_passkey.get_secret_value()}{timestamp}"
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.anyio
async def test_callbacks_loop_back_into_the_app(db: DbEngine, sandbox_settings: Settings, clock: FixedClock) -> None:
    received: list[Any] = []

    async def callback(request: Request) -> Response:
        received.append((request.path_params["token"], await request.json()))
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    app = create_app(make_container(db, sandbox_settings, clock))
    app.router.routes.insert(0, Route("/payments/mpesa/callback/{token}", callback, methods=["POST"]))
    sandbox = sandbox_mount.loop_back(app)
    settings = sandbox_settings
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
        key, secret = settings.mpesa_consumer_key.get_secret_value(), settings.mpesa_consumer_secret.get_secret_value()
        token = (
            await client.get(
                "/sandbox/oauth/v1/generate", params={"grant_type": "client_credentials"}, auth=(key, secret)
            )
        ).json()["access_token"]
        stamp = "20261122123000"
        body = {
            "BusinessShortCode": settings.mpesa_shortcode,
            "Password": _password(stamp, settings),
            "Timestamp": stamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 4442,
            "PartyA": "254708000006",
            "PartyB": settings.mpesa_shortcode,
            "PhoneNumber": "254708000006",  # the duplicate-callback test payer
            "CallBackURL": f"{PUBLIC}/payments/mpesa/callback/t0k3n",
            "AccountReference": "LN-0001",
            "TransactionDesc": "Loan repayment",
        }
        pushed = await client.post(
            "/sandbox/mpesa/stkpush/v1/processrequest", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert pushed.status_code == 200, pushed.text
        await sandbox.drain()
    assert [token for token, _ in received] == ["t0k3n", "t0k3n"]
    assert received[0][1] == received[1][1]
    assert received[0][1]["Body"]["stkCallback"]["ResultCode"] == 0
    await sandbox_mount.close(app)
    assert sandbox.client.is_closed


def test_shutdown_closes_the_sandbox(db: DbEngine, sandbox_settings: Settings, clock: FixedClock) -> None:
    app = create_app(make_container(db, sandbox_settings, clock))
    sandbox = sandbox_mount.sandbox_in(app)
    assert sandbox is not None
    with TestClient(app) as client:
        assert client.get("/sandbox/sandbox-control/outbox").json() == {"items": []}
    assert sandbox.client.is_closed


def test_live_mode_has_no_sandbox_to_loop_back(tmp_path: Any) -> None:
    live = {
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
    settings = Settings(database_url=f"sqlite:///{tmp_path}/l.db", provider_mode="live", **live)  # type: ignore[arg-type]
    assert sandbox_mount.routes(settings) == []
    app = create_app(settings=settings)
    assert sandbox_mount.sandbox_in(app) is None
    with pytest.raises(LookupError):
        sandbox_mount.loop_back(app)


def test_callback_tokens_stay_out_of_httpx_logs(sandbox_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    sandbox_mount.routes(sandbox_settings)
    url = httpx.URL(f"{PUBLIC}/payments/mpesa/callback/s3cr3t-t0k3n")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK")
    assert "s3cr3t" not in caplog.text
    assert "/payments/mpesa/callback/***" in caplog.text
