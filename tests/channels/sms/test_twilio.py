from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from channels.base import DeliveryStatus
from channels.errors import AuthError, ProviderError, RecipientOptedOut
from channels.sms.base import SendResult
from channels.sms.twilio import TWIML_EMPTY, TwilioSender, parse_inbound, parse_status, validate_signature
from flows.messages import ChannelName, Inbound

DATA = Path(__file__).parents[1] / "data" / "sms"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / name).read_text().strip(), keep_blank_values=True))


def test_signature_vector() -> None:
    assert validate_signature(VECTOR_URL, form("twilio_signature_vector.form"), VECTOR_SIGNATURE, "12345")


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (VECTOR_URL, {**form("twilio_signature_vector.form"), "Digits": "1235"}, VECTOR_SIGNATURE, "12345"),
        (VECTOR_URL, {**form("twilio_signature_vector.form"), "Extra": "x"}, VECTOR_SIGNATURE, "12345"),
        (
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            form("twilio_signature_vector.form"),
            VECTOR_SIGNATURE,
            "12345",
        ),
        (VECTOR_URL, form("twilio_signature_vector.form"), VECTOR_SIGNATURE, "54321"),
        (VECTOR_URL, form("twilio_signature_vector.form"), None, "12345"),
        (VECTOR_URL, form("twilio_signature_vector.form"), "", "12345"),
        (VECTOR_URL, form("twilio_signature_vector.form"), VECTOR_SIGNATURE, ""),
    ],
)
def test_tampered_requests_fail(url: str, params: dict[str, str], signature: str | None, token: str) -> None:
    assert not validate_signature(url, params, signature, token)


def test_parse_inbound() -> None:
    assert parse_inbound(form("twilio_sms_inbound.form")) == Inbound(
        channel=ChannelName.SMS,
        provider="twilio",
        binding="+12028831111",
        phone_e164="+14133881111",
        text="Msg",
        session_key="+14133881111",
        provider_message_id="SMe287d7109a5a925f182f0e07fe5b223b",
    )


def test_picture_without_text_is_unsupported() -> None:
    message = parse_inbound({**form("twilio_sms_inbound.form"), "Body": "", "NumMedia": "1"})

    assert message is not None
    assert message.unsupported == "media"


@pytest.mark.parametrize("sender", ["", "Twilio", "12345"])
def test_inbound_from_a_non_phone_is_skipped(sender: str) -> None:
    assert parse_inbound({**form("twilio_sms_inbound.form"), "From": sender}) is None


STATUSES = {
    "constructed_twilio_status_undelivered.form": DeliveryStatus(
        "twilio", "SM5a6b7c8d9e0f11121314151617181920", "failed", error_code="30003", recipient="+14133881111"
    ),
    "constructed_twilio_status_delivered.form": DeliveryStatus(
        "twilio", "SM5a6b7c8d9e0f11121314151617181921", "delivered", recipient="+14133881111"
    ),
}


@pytest.mark.parametrize("name", sorted(STATUSES))
def test_parse_status(name: str) -> None:
    assert parse_status(form(name)) == STATUSES[name]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("accepted", "queued"),
        ("queued", "queued"),
        ("sending", "sent"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("undelivered", "failed"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("received", None),
        ("", None),
    ],
)
def test_status_values(status: str, expected: str | None) -> None:
    report = parse_status({"MessageSid": "SM1", "MessageStatus": status})

    assert (report.status if report else None) == expected


def test_twiml_empty() -> None:
    assert TWIML_EMPTY == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class FakeHttp(HttpClient):  # type: ignore[misc]
    """Answers every request with one canned response and records what was asked."""

    def __init__(self, status: int, payload: object) -> None:
        super().__init__(logging.getLogger("fake-twilio"), False, 5.0)
        self.status = status
        self.payload = payload
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        if isinstance(self.payload, Exception):
            raise self.payload
        return Response(self.status, json.dumps(self.payload))


MESSAGE = {
    "sid": "SM0123456789abcdef0123456789abcdef",
    "status": "queued",
    "price": None,
    "price_unit": "USD",
    "account_sid": "AC" + "a" * 32,
    "to": "+254712345678",
    "body": "hi",
}


def make_sender(http: FakeHttp, base_url: str | None = "http://sandbox.test/twilio/") -> TwilioSender:
    return TwilioSender(
        "AC" + "a" * 32, "auth-token", base_url, status_callback="https://jumbe.test/s", http_client=http
    )


def test_send_uses_the_base_url_and_returns_the_sid() -> None:
    http = FakeHttp(201, MESSAGE)

    result = make_sender(http).send("+254712345678", "hi", "+12028831111")

    assert result == SendResult("SM0123456789abcdef0123456789abcdef", "queued", None)
    (call,) = http.calls
    assert call["method"] == "POST"
    assert call["url"] == f"http://sandbox.test/twilio/2010-04-01/Accounts/AC{'a' * 32}/Messages.json"
    assert call["data"] == {
        "To": "+254712345678",
        "Body": "hi",
        "From": "+12028831111",
        "StatusCallback": "https://jumbe.test/s",
    }
    assert call["auth"] == ("AC" + "a" * 32, "auth-token")


def test_messaging_service_sid_as_sender() -> None:
    http = FakeHttp(201, MESSAGE)

    make_sender(http).send("+254712345678", "hi", "MG" + "b" * 32)

    assert http.calls[0]["data"]["MessagingServiceSid"] == "MG" + "b" * 32
    assert "From" not in http.calls[0]["data"]


def test_default_base_url_is_twilio() -> None:
    http = FakeHttp(201, MESSAGE)

    make_sender(http, base_url=None).send("+254712345678", "hi", "+12028831111")

    assert http.calls[0]["url"].startswith("https://api.twilio.com/2010-04-01/")


@pytest.mark.parametrize("base_url", [None, "http://sandbox.test/twilio"])
def test_region_and_edge_environment_do_not_redirect(base_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    http = FakeHttp(201, MESSAGE)

    make_sender(http, base_url=base_url).send("+254712345678", "hi", "+12028831111")

    assert "sydney" not in http.calls[0]["url"]
    assert http.calls[0]["url"].startswith(base_url or "https://api.twilio.com/")


def test_default_http_client_has_a_timeout() -> None:
    sender = TwilioSender("AC" + "a" * 32, "auth-token", timeout=7.5)

    assert sender._client.http_client.timeout == 7.5


def twilio_error(status: int, code: int | None, message: str = "error") -> FakeHttp:
    payload: dict[str, Any] = {"message": message, "status": status}
    if code is not None:
        payload |= {"code": code, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return FakeHttp(status, payload)


def send_error(http: FakeHttp) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        make_sender(http).send("+254712345678", "hi", "+12028831111")
    return info.value


def test_21610_is_opted_out() -> None:
    error = send_error(twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))

    assert isinstance(error, RecipientOptedOut)
    assert not error.transient
    assert error.code == "21610"


@pytest.mark.parametrize(("status", "code"), [(401, 20003), (401, None)])
def test_auth_errors(status: int, code: int | None) -> None:
    assert isinstance(send_error(twilio_error(status, code, "Authenticate")), AuthError)


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (429, 20429, True),
        (500, None, True),
        (503, 20500, True),
        (400, 21211, False),  # invalid To number
        (400, 21614, False),  # not a mobile number
    ],
)
def test_error_transience(status: int, code: int | None, transient: bool) -> None:
    error = send_error(twilio_error(status, code))

    assert type(error) is ProviderError
    assert error.transient is transient


def test_network_error_is_transient() -> None:
    error = send_error(FakeHttp(0, requests.ConnectionError("refused")))

    assert error.transient
