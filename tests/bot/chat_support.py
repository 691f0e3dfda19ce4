"""Fakes and helpers for the chat channel tests: provider APIs that record, signed webhooks.

:class:`FakeProviders` answers the WhatsApp Cloud API and Africa's Talking (through an
``httpx.MockTransport``) and Twilio (a ``twilio.http.HttpClient``) like the real ones, records
every request, and can be told to fail the next sends. Nothing touches the network.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from sqlmodel import select
from starlette.testclient import TestClient
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

from bot import demo
from bot.bootstrap import Container
from bot.providers import ProviderClients
from core.tables import Direction, Member, MessageLog
from core.uow import UnitOfWork
from tests.conftest import NOW

WA_SECRET = "sandbox-app-secret"
TWILIO_TOKEN = "sandbox-twilio-token"
PHONE_NUMBER_ID = "1122334455667"
AT_SHORT_CODE = "21512"
TWILIO_NUMBER = "+15005550006"
MEMBER_WA = demo.MEMBER_PHONE.removeprefix("+")


class FakeTwilioHttp(HttpClient):  # type: ignore[misc]
    """Twilio's Messages API: 201 with a sid, or the next queued error."""

    def __init__(self, owner: FakeProviders) -> None:
        super().__init__(None, False, 5.0)
        self.owner = owner

    def request(self, method: str, url: str, **kwargs: Any) -> TwilioResponse:
        data = dict(kwargs.get("data") or {})
        self.owner.twilio_sent.append(data)
        if self.owner.twilio_errors:
            status, code, message = self.owner.twilio_errors.pop(0)
            return TwilioResponse(status, json.dumps({"code": code, "message": message, "status": status}))
        sid = f"SM{next(self.owner.ids):032d}"
        body = {"sid": sid, "status": "queued", "price": None, "price_unit": "USD", "to": data.get("To"), "body": ""}
        return TwilioResponse(201, json.dumps(body))


class FakeProviders:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.whatsapp_sent: list[dict[str, Any]] = []
        self.at_sent: list[dict[str, str]] = []
        self.twilio_sent: list[dict[str, str]] = []
        self.whatsapp_errors: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.at_errors: list[tuple[int, dict[str, Any]]] = []
        self.twilio_errors: list[tuple[int, int, str]] = []
        self.twilio = FakeTwilioHttp(self)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            assert request.headers["authorization"] == "Bearer sandbox-token"
            self.whatsapp_sent.append(json.loads(request.content))
            if self.whatsapp_errors:
                status, body, headers = self.whatsapp_errors.pop(0)
                return httpx.Response(status, json=body, headers=headers)
            wamid = f"wamid.OUT{next(self.ids)}"
            return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": wamid}]})
        if request.url.path.endswith("/version1/messaging"):
            form = dict(parse_qsl(request.content.decode()))
            self.at_sent.append(form)
            if self.at_errors:
                status, body = self.at_errors.pop(0)
                return httpx.Response(status, json=body)
            recipient = {"statusCode": 101, "number": form["to"], "status": "Success", "cost": "KES 0.8000"}
            recipient["messageId"] = f"ATXid_{next(self.ids)}"
            return httpx.Response(201, json={"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}})
        return httpx.Response(404, json={"error": {"message": "unknown path"}})

    def fail_whatsapp(self, code: int, status: int = 400, retry_after: str | None = None) -> None:
        body = {"error": {"message": f"(#{code}) failure", "type": "OAuthException", "code": code}}
        self.whatsapp_errors.append((status, body, {"Retry-After": retry_after} if retry_after else {}))

    def texts(self) -> list[str]:
        """Everything sent, readable: WhatsApp texts, interactive bodies and template parameters, SMS."""
        out: list[str] = []
        for body in self.whatsapp_sent:
            if body["type"] == "text":
                out.append(body["text"]["body"])
            elif body["type"] == "interactive":
                out.append(body["interactive"]["body"]["text"])
            else:
                out.append(json.dumps(body["template"]))
        out += [form["message"] for form in self.at_sent]
        out += [form.get("Body", "") for form in self.twilio_sent]
        return out


def install_fakes(container: Container) -> Iterator[FakeProviders]:
    """Point the container's provider clients at fakes (use as ``yield from`` in a fixture)."""
    fake = FakeProviders()
    http = httpx.Client(transport=httpx.MockTransport(fake.handle))
    container.services["provider_clients"] = ProviderClients(container.settings, http=http, twilio_http=fake.twilio)
    yield fake
    http.close()


# -- WhatsApp -------------------------------------------------------------------------------------


def wa_message(
    text: str | None = None,
    *,
    msg_id: str,
    reply: tuple[str, str] | None = None,
    wa_id: str = MEMBER_WA,
    at: datetime = NOW,
    kind: str | None = None,
) -> dict[str, Any]:
    """One inbound message: text, a tapped ``(id, title)`` list row, or another ``kind`` (image...)."""
    message: dict[str, Any] = {"from": wa_id, "id": msg_id, "timestamp": str(int(at.timestamp()))}
    if reply is not None:
        row_id, title = reply
        message.update(
            type="interactive", interactive={"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
        )
    elif kind is not None:
        message.update(type=kind, **{kind: {"id": "media1"}})
    else:
        message.update(type="text", text={"body": text or ""})
    return message


def wa_webhook(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "254711000000", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Amina"}, "wa_id": MEMBER_WA}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }


def sign(raw: bytes, secret: str = WA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_whatsapp(client: TestClient, payload: dict[str, Any] | bytes, *, secret: str = WA_SECRET) -> httpx.Response:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, secret)}
    return client.post("/channels/whatsapp", content=raw, headers=headers)


class WhatsAppPhone:
    """A member on WhatsApp: each ``send`` / ``tap`` is one signed webhook with a fresh message id."""

    def __init__(self, client: TestClient, providers: FakeProviders, wa_id: str = MEMBER_WA) -> None:
        self.client = client
        self.providers = providers
        self.wa_id = wa_id
        self.count = 0

    def _post(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.providers.whatsapp_sent)
        response = post_whatsapp(self.client, wa_webhook(message))
        assert response.status_code == 200, response.text
        return self.providers.whatsapp_sent[before:]

    def send(self, text: str) -> list[dict[str, Any]]:
        self.count += 1
        return self._post(wa_message(text, msg_id=f"wamid.IN{self.wa_id}.{self.count}", wa_id=self.wa_id))

    def tap(self, row_id: str, title: str = "") -> list[dict[str, Any]]:
        self.count += 1
        return self._post(
            wa_message(msg_id=f"wamid.IN{self.wa_id}.{self.count}", reply=(row_id, title or row_id), wa_id=self.wa_id)
        )


def options(body: dict[str, Any]) -> list[str]:
    """The ids a WhatsApp interactive body offers (buttons or list rows)."""
    action = body["interactive"]["action"]
    ids = [button["reply"]["id"] for button in action.get("buttons", [])]
    return ids + [row["id"] for section in action.get("sections", []) for row in section["rows"]]


# -- SMS ------------------------------------------------------------------------------------------


def post_at_sms(client: TestClient, text: str, *, msg_id: str, phone: str = demo.MEMBER_PHONE) -> httpx.Response:
    form = {"from": phone, "to": AT_SHORT_CODE, "text": text, "date": "2026-11-22T09:30:00.000Z", "id": msg_id}
    return client.post("/channels/africastalking/sms", data=form)


def twilio_signature(url: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def post_twilio(
    client: TestClient, path: str, form: dict[str, str], *, token: str = TWILIO_TOKEN, signature: str | None = None
) -> httpx.Response:
    url = "http://testserver" + path
    headers = {"X-Twilio-Signature": signature if signature is not None else twilio_signature(url, form, token)}
    return client.post(path, data=form, headers=headers)


def twilio_inbound(text: str, *, sid: str, phone: str = demo.MEMBER_PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": TWILIO_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }


# -- the database ---------------------------------------------------------------------------------


def log_rows(container: Container, direction: Direction | None = None) -> list[MessageLog]:
    with UnitOfWork(container.db) as uow:
        query = select(MessageLog).order_by(MessageLog.id)  # type: ignore[arg-type]
        if direction is not None:
            query = query.where(MessageLog.direction == direction)
        return list(uow.session.exec(query))


def member(container: Container, phone: str = demo.MEMBER_PHONE) -> Member:
    with UnitOfWork(container.db) as uow:
        found = uow.session.exec(select(Member).where(Member.phone == phone)).first()
        assert found is not None
        return found
