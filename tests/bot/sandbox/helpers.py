"""Shared helpers for the sandbox tests: a recording callback receiver and Daraja request builders."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette

from bot.sandbox import Sandbox, SandboxConfig

RECEIVER = "https://bot.example"
CALLBACK_URL = f"{RECEIVER}/payments/mpesa/callback/tok3n"
WHATSAPP_WEBHOOK = f"{RECEIVER}/channels/whatsapp"
AT_DELIVERY = f"{RECEIVER}/channels/africastalking/sms/delivery"
TWILIO_STATUS = f"{RECEIVER}/channels/twilio/status?org=demo"
PAYER = "254712345678"
TIMESTAMP = "20261122123000"


@dataclass
class Receiver:
    """Stands in for our bot: records every callback the sandbox POSTs to it."""

    requests: list[httpx.Request] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    failure: str | None = None

    async def handler(self, request: httpx.Request) -> httpx.Response:
        """Record the request, then answer like a healthy receiver, or fail as told."""
        await request.aread()
        self.requests.append(request)
        self.log.append("callback")
        if self.failure == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.failure == "500":
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={"ResultCode": 0, "ResultDesc": "Accepted"})

    def at(self, url: str) -> list[httpx.Request]:
        """Return the requests received at one URL (path and query compared)."""
        return [request for request in self.requests if str(request.url) == url]

    def json_at(self, url: str) -> list[Any]:
        """Return the JSON bodies received at one URL."""
        return [json.loads(request.content) for request in self.at(url)]

    def forms_at(self, url: str) -> list[dict[str, str]]:
        """Return the form bodies received at one URL."""
        return [dict(parse_qsl(request.content.decode())) for request in self.at(url)]


@dataclass
class Env:
    """One sandbox app under test, the client calling it and the receiver of its callbacks."""

    app: Starlette
    sandbox: Sandbox
    api: httpx.AsyncClient
    receiver: Receiver

    @property
    def config(self) -> SandboxConfig:
        """Return the sandbox config."""
        return self.sandbox.config


def password(shortcode: str = "174379", passkey: str | None = None, timestamp: str = TIMESTAMP) -> str:
    """Return Daraja's Password for a shortcode, passkey and timestamp."""
    key = SandboxConfig().daraja_passkey if passkey is None else passkey
    return base64.b64encode(f"{shortcode}{key}{timestamp}".encode()).decode()


def stk_body(phone: str = PAYER, amount: Any = 100, **overrides: Any) -> dict[str, Any]:
    """Return a valid STK push request body, with fields overridden."""
    body: dict[str, Any] = {
        "BusinessShortCode": "174379",
        "Password": password(),
        "Timestamp": TIMESTAMP,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": amount,
        "PartyA": phone,
        "PartyB": "174379",
        "PhoneNumber": phone,
        "CallBackURL": CALLBACK_URL,
        "AccountReference": "M0042",
        "TransactionDesc": "Contribution",
    }
    body.update(overrides)
    return body


async def token(env: Env) -> str:
    """Fetch a Daraja access token with the configured consumer credentials."""
    response = await env.api.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(env.config.daraja_consumer_key, env.config.daraja_consumer_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def push(env: Env, body: dict[str, Any] | None = None, **overrides: Any) -> httpx.Response:
    """Send an STK push with a fresh token."""
    bearer = await token(env)
    return await env.api.post(
        "/mpesa/stkpush/v1/processrequest",
        json=body if body is not None else stk_body(**overrides),
        headers={"Authorization": f"Bearer {bearer}"},
    )


async def query(env: Env, checkout_request_id: str, **overrides: Any) -> httpx.Response:
    """Ask Daraja for the state of a push."""
    bearer = await token(env)
    body = {
        "BusinessShortCode": "174379",
        "Password": password(),
        "Timestamp": TIMESTAMP,
        "CheckoutRequestID": checkout_request_id,
        **overrides,
    }
    return await env.api.post("/mpesa/stkpushquery/v1/query", json=body, headers={"Authorization": f"Bearer {bearer}"})


def stk_callback(body: dict[str, Any]) -> dict[str, Any]:
    """Return the stkCallback object of a Daraja callback body."""
    callback = body["Body"]["stkCallback"]
    assert isinstance(callback, dict)
    return callback


def metadata(callback: dict[str, Any]) -> dict[str, Any]:
    """Return CallbackMetadata items by Name (a missing Value maps to the sentinel 'absent')."""
    return {item["Name"]: item.get("Value", "absent") for item in callback["CallbackMetadata"]["Item"]}
