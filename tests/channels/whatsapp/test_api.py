from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from channels.errors import AuthError, ProviderError, WindowClosed
from channels.whatsapp.api import GraphClient, retry_after_seconds

Handler = Callable[[httpx.Request], httpx.Response]
BODY = {"messaging_product": "whatsapp", "to": "+254712345678", "type": "text", "text": {"body": "hi"}}


@pytest.fixture
def requests() -> list[httpx.Request]:
    return []


def make_client(handler: Handler, requests: list[httpx.Request]) -> GraphClient:
    def recording(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(recording))
    return GraphClient(http, "http://sandbox.test/graph/", "v21.0", "secret-token")


def graph_error(code: int, message: str, *, status: int = 400, headers: dict[str, str] | None = None) -> Handler:
    payload = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": f"details of {code}"},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }
    return lambda request: httpx.Response(status, json=payload, headers=headers)


def send_error(handler: Handler, requests: list[httpx.Request]) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        make_client(handler, requests).send("106540352242922", BODY)
    return info.value


def test_send_posts_the_body_and_returns_the_message_id(requests: list[httpx.Request]) -> None:
    ok = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+254712345678", "wa_id": "254712345678"}],
        "messages": [{"id": "wamid.HBgLMjU0NzEyMzQ1Njc4FQIAERgSQ0Y="}],
    }
    client = make_client(lambda r: httpx.Response(200, json=ok), requests)

    assert client.send("106540352242922", BODY) == "wamid.HBgLMjU0NzEyMzQ1Njc4FQIAERgSQ0Y="

    (request,) = requests
    assert request.method == "POST"
    assert str(request.url) == "http://sandbox.test/graph/v21.0/106540352242922/messages"
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert json.loads(request.content) == BODY
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}


def test_http_429_with_retry_after_is_transient(requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(130429, "Rate limit hit", status=429, headers={"Retry-After": "30"}), requests)

    assert type(error) is ProviderError
    assert error.transient
    assert error.retry_after == 30.0
    assert error.code == "130429"
    assert error.status_code == 429


@pytest.mark.parametrize("code", [4, 80007, 130429, 131056, 131000, 131016])
def test_throttling_and_temporary_codes_are_transient(code: int, requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(code, "throttled", headers={"Retry-After": "12"}), requests)

    assert error.transient
    assert error.retry_after == 12.0


def test_131047_is_window_closed(requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(131047, "Re-engagement message"), requests)

    assert isinstance(error, WindowClosed)
    assert not error.transient
    assert error.code == "131047"
    assert "details of 131047" in error.message


@pytest.mark.parametrize("code", [131026, 131048, 131051, 100, 132001])
def test_permanent_codes_are_not_transient(code: int, requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(code, "no"), requests)

    assert type(error) is ProviderError
    assert not error.transient
    assert error.retry_after is None


def test_500_is_transient(requests: list[httpx.Request]) -> None:
    error = send_error(lambda r: httpx.Response(500, text="<html>oops</html>"), requests)

    assert type(error) is ProviderError
    assert error.transient
    assert error.code == "500"


def test_190_is_auth_error(requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(190, "Error validating access token: Session has expired"), requests)

    assert isinstance(error, AuthError)
    assert not error.transient


def test_401_without_body_is_auth_error(requests: list[httpx.Request]) -> None:
    assert isinstance(send_error(lambda r: httpx.Response(401), requests), AuthError)


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_network_errors_are_transient(exc: Exception, requests: list[httpx.Request]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    error = send_error(handler, requests)

    assert error.transient
    assert error.__cause__ is exc


def test_success_without_message_id_is_not_retried(requests: list[httpx.Request]) -> None:
    error = send_error(lambda r: httpx.Response(200, json={"messages": []}), requests)

    assert not error.transient


def test_token_is_not_in_the_error(requests: list[httpx.Request]) -> None:
    error = send_error(graph_error(190, "expired"), requests)

    assert "secret-token" not in repr(error) + str(error)


def test_retry_after_http_date() -> None:
    now = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds("Sat, 01 Jun 2024 12:00:45 GMT", now=now) == 45.0
    assert retry_after_seconds("Sat, 01 Jun 2024 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None
