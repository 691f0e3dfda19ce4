"""The Daraja gateway: Daraja's answers and failures as the domain's (httpx MockTransport, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.mpesa_gateway import DarajaGateway, report_from_callback
from bot.settings import Settings
from channels.mpesa import parse_callback
from core.clock import FixedClock
from core.ports import GatewayUnavailable, PushOutcomeUnknown, PushRefused
from core.tables import PaymentState
from tests.bot.mpesa_support import payload

Handler = Callable[[httpx.Request], httpx.Response]


def _gateway(settings: Settings, clock: FixedClock, handler: Handler) -> Iterator[DarajaGateway]:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/v1/generate"):
            return httpx.Response(200, json={"access_token": "tok", "expires_in": "3599"})
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(route))
    yield DarajaGateway(settings, clock, http=http)
    http.close()


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


def _push(gateway: DarajaGateway) -> object:
    return gateway.stk_push(
        phone="+254700000001",
        amount=444_200,
        account_reference="M00001",
        description="Loan repayment",
        callback_token="tok-123",
    )


def test_push_accepted_sends_our_callback_url_and_whole_shillings(
    settings: Settings, clock: FixedClock, seen: list[httpx.Request]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=payload("mpesa_stk_sync_response.json"))

    for gateway in _gateway(settings, clock, handler):
        accepted = _push(gateway)
    body = json.loads(seen[0].content)
    assert body["CallBackURL"] == "http://testserver/payments/mpesa/callback/tok-123"
    assert (body["Amount"], body["PhoneNumber"], body["AccountReference"]) == ("4442", "254700000001", "M00001")
    assert seen[0].url.host == "testserver" and seen[0].url.path == "/sandbox/mpesa/stkpush/v1/processrequest"
    assert accepted.checkout_request_id == "ws_CO_191220191020363925"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.ReadTimeout("slow"), PushOutcomeUnknown),
        (httpx.Response(502, text="<html>bad gateway</html>"), PushOutcomeUnknown),
        (httpx.ConnectError("refused"), GatewayUnavailable),
        (
            httpx.Response(500, json={"requestId": "1", "errorCode": "500.001.1001", "errorMessage": "Unable to lock"}),
            PushRefused,
        ),
        (
            httpx.Response(400, json={"requestId": "1", "errorCode": "400.002.02", "errorMessage": "Bad Request"}),
            PushRefused,
        ),
    ],
)
def test_push_failures_map_to_the_domain(
    settings: Settings, clock: FixedClock, answer: httpx.Response | Exception, error: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    for gateway in _gateway(settings, clock, handler):
        with pytest.raises(error):
            _push(gateway)


def test_a_bad_phone_is_refused_before_sending(
    settings: Settings, clock: FixedClock, seen: list[httpx.Request]
) -> None:
    for gateway in _gateway(settings, clock, lambda r: seen.append(r) or httpx.Response(200)):  # type: ignore[func-returns-value]
        with pytest.raises(PushRefused):
            gateway.stk_push(
                phone="+255712345678", amount=100, account_reference="M1", description="x", callback_token="t"
            )
    assert seen == []


@pytest.mark.parametrize(
    ("answer", "outcome", "code"),
    [
        (httpx.Response(200, json=payload("mpesa_stk_query_response.json")), PaymentState.PAID, 0),
        (
            httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "1032", "ResultDesc": "Cancelled"}),
            PaymentState.CANCELLED,
            1032,
        ),
        (
            httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "1037", "ResultDesc": "DS timeout"}),
            PaymentState.TIMEOUT,
            1037,
        ),
        (
            httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "2001", "ResultDesc": "Wrong PIN"}),
            PaymentState.FAILED,
            2001,
        ),
        (
            httpx.Response(
                500, json={"requestId": "1", "errorCode": "500.001.1001", "errorMessage": "being processed"}
            ),
            None,
            None,
        ),
    ],
)
def test_query_answers(
    settings: Settings,
    clock: FixedClock,
    answer: httpx.Response,
    outcome: PaymentState | None,
    code: int | None,
) -> None:
    for gateway in _gateway(settings, clock, lambda r: answer):
        result = gateway.stk_query("ws_CO_1")
    assert (result.outcome, result.result_code) == (outcome, code)


def test_query_failure_is_unavailable(settings: Settings, clock: FixedClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    for gateway in _gateway(settings, clock, handler):
        with pytest.raises(GatewayUnavailable):
            gateway.stk_query("ws_CO_1")


def test_the_daraja_samples_map_to_reports() -> None:
    success = report_from_callback(parse_callback(json.dumps(payload("mpesa_stk_callback_success.json"))))
    assert (success.outcome, success.result_code, success.amount, success.receipt, success.phone) == (
        PaymentState.PAID,
        0,
        100,
        "NLJ7RT61SV",
        "+254708374149",
    )
    assert success.checkout_request_id == "ws_CO_191220191020363925"
    cancelled = report_from_callback(parse_callback(json.dumps(payload("mpesa_stk_callback_cancelled.json"))))
    assert (cancelled.outcome, cancelled.result_code, cancelled.amount) == (PaymentState.CANCELLED, 1032, None)


def test_gateway_closes_only_the_client_it_made(settings: Settings, clock: FixedClock) -> None:
    own = DarajaGateway(settings, clock)
    assert own.client is own.client
    own.close()
    shared = httpx.Client()
    DarajaGateway(settings, clock, http=shared).close()
    assert not shared.is_closed
    shared.close()
