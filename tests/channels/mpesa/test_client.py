"""DarajaClient against a scripted Daraja: what it sends, and how it reads each answer."""

from __future__ import annotations

import base64
import json
import logging

import httpx
import pytest

from channels.errors import AuthError, ProviderError
from channels.mpesa.client import DEFAULT_TIMEOUT, STK_PUSH_PATH, STK_QUERY_PATH, TOKEN_PATH, DarajaClient
from channels.mpesa.config import SANDBOX_PASSKEY, DarajaCredentials, TransactionType
from channels.mpesa.errors import DarajaAuthError, DarajaError, InvalidAccessToken, PushOutcomeUnknown
from channels.mpesa.responses import StkPushAccepted, StkQueryResult
from channels.mpesa.results import Outcome
from core.clock import FixedClock
from tests.channels.mpesa.conftest import FakeDaraja, load

PHONE = "+254708374149"


def ok() -> httpx.Response:
    return httpx.Response(200, json=load("mpesa_stk_sync_response.json"))


def daraja_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"requestId": "11728-2929992-1", "errorCode": code, "errorMessage": message}
    return httpx.Response(status, json=body, headers=headers)


def push(client: DarajaClient, **overrides: object) -> StkPushAccepted:
    args: dict[str, object] = {
        "phone_e164": PHONE,
        "amount_minor": 100,
        "account_reference": "Test",
        "description": "Test",
        "callback_url": "https://mydomain.com/pat",
    }
    args.update(overrides)
    return client.stk_push(**args)  # type: ignore[arg-type]


def body_of(request: httpx.Request) -> dict[str, object]:
    data = json.loads(request.content)
    assert isinstance(data, dict)
    return data


# -- the push request --------------------------------------------------------------------


def test_push_sends_exactly_the_documented_sample_request(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())

    accepted = push(client)

    (request,) = daraja.sent(STK_PUSH_PATH)
    assert request.method == "POST"
    assert str(request.url) == "https://sandbox.safaricom.co.ke/mpesa/stkpush/v1/processrequest"
    # Password, Timestamp (Nairobi time), whole-shilling Amount, 2547... phone: all as in
    # Daraja's own sample, field for field.
    assert body_of(request) == load("mpesa_stk_request.json")
    assert accepted == StkPushAccepted(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        response_code="0",
        response_description="Success. Request accepted for processing",
        customer_message="Success. Request accepted for processing",
    )


def test_push_password_decodes_to_shortcode_passkey_timestamp(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())
    push(client)
    sent = body_of(daraja.sent(STK_PUSH_PATH)[0])
    assert sent["Timestamp"] == "20160216165627"
    assert base64.b64decode(str(sent["Password"])).decode() == "174379" + SANDBOX_PASSKEY + "20160216165627"


def test_push_timestamp_is_nairobi_time_across_midnight(
    client: DarajaClient, daraja: FakeDaraja, clock: FixedClock
) -> None:
    clock.at = clock.at.replace(year=2025, month=12, day=31, hour=22, minute=30, second=5)  # UTC
    daraja.on(STK_PUSH_PATH, ok())
    push(client)
    assert body_of(daraja.sent(STK_PUSH_PATH)[0])["Timestamp"] == "20260101013005"


def test_push_amount_is_whole_shillings_as_in_the_sample(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())
    push(client, amount_minor=150_000)
    assert body_of(daraja.sent(STK_PUSH_PATH)[0])["Amount"] == "1500"


def test_push_uses_bearer_token_from_basic_auth_token_call(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())
    push(client)

    token_request, push_request = daraja.requests
    assert token_request.method == "GET"
    assert token_request.url.path == TOKEN_PATH
    assert token_request.url.params["grant_type"] == "client_credentials"
    expected = base64.b64encode(b"test-consumer-key:test-consumer-secret").decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert push_request.headers["Authorization"] == "Bearer tok-1"


def test_every_request_carries_the_explicit_timeout(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())
    push(client)
    for request in daraja.requests:
        assert request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


def test_buy_goods_pays_the_till(http: httpx.Client, daraja: FakeDaraja, clock: FixedClock) -> None:
    credentials = DarajaCredentials(
        base_url="https://sandbox.safaricom.co.ke/",
        consumer_key="k",
        consumer_secret="s",
        shortcode="174379",
        passkey="pk",
        transaction_type=TransactionType.BUY_GOODS,
        party_b="600977",
    )
    daraja.on(STK_PUSH_PATH, ok())
    push(DarajaClient(credentials, http, clock), phone_e164="+254112345678")
    sent = body_of(daraja.sent(STK_PUSH_PATH)[0])
    assert sent["TransactionType"] == "CustomerBuyGoodsOnline"
    assert sent["BusinessShortCode"] == "174379"
    assert sent["PartyB"] == "600977"
    assert sent["PartyA"] == sent["PhoneNumber"] == "254112345678"


def test_long_description_is_cut_to_13_characters(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, ok())
    push(client, description="Loan repayment for March")
    assert body_of(daraja.sent(STK_PUSH_PATH)[0])["TransactionDesc"] == "Loan repaymen"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"amount_minor": 150}, ValueError),  # 1.50 KES: not whole shillings
        ({"amount_minor": 0}, ValueError),
        ({"amount_minor": -100}, ValueError),
        ({"amount_minor": 100.0}, TypeError),  # never floats
        ({"amount_minor": True}, TypeError),
        ({"phone_e164": "+255712345678"}, ValueError),  # Tanzania
        ({"phone_e164": "+254208374149"}, ValueError),  # Nairobi landline
        ({"phone_e164": "0708374149"}, ValueError),  # not E.164
        ({"phone_e164": "254708374149"}, ValueError),
        ({"phone_e164": "+2547083741490"}, ValueError),
        ({"account_reference": "ACCOUNT-12345"}, ValueError),  # 13 > 12 characters
        ({"account_reference": "  "}, ValueError),
        ({"account_reference": "Akaunti\u00e9"}, ValueError),
        ({"description": "   "}, ValueError),
        ({"callback_url": "/payments/mpesa/callback/x"}, ValueError),
        ({"callback_url": "ftp://example.com/cb"}, ValueError),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(
    client: DarajaClient, daraja: FakeDaraja, overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        push(client, **overrides)
    assert daraja.requests == []


# -- the token ---------------------------------------------------------------------------


def test_token_is_cached_until_a_minute_before_expiry(
    client: DarajaClient, daraja: FakeDaraja, clock: FixedClock
) -> None:
    daraja.on(STK_PUSH_PATH, ok(), ok(), ok())

    push(client)
    clock.advance(seconds=3599 - 61)
    push(client)
    assert daraja.paths().count(TOKEN_PATH) == 1

    clock.advance(seconds=2)  # now inside the last minute
    push(client)
    assert daraja.paths().count(TOKEN_PATH) == 2
    assert daraja.sent(STK_PUSH_PATH)[-1].headers["Authorization"] == "Bearer tok-2"


@pytest.mark.parametrize("expires_in", [3599, "3599", " 3599 "])
def test_expires_in_may_be_a_string_or_a_number(
    client: DarajaClient, daraja: FakeDaraja, clock: FixedClock, expires_in: object
) -> None:
    daraja.expires_in = expires_in
    daraja.on(STK_PUSH_PATH, ok(), ok())
    push(client)
    clock.advance(seconds=3500)
    push(client)
    assert daraja.paths().count(TOKEN_PATH) == 1


def test_unreadable_expires_in_falls_back_to_an_hour(
    client: DarajaClient, daraja: FakeDaraja, clock: FixedClock
) -> None:
    daraja.expires_in = "soon"
    daraja.on(STK_PUSH_PATH, ok(), ok())
    push(client)
    clock.advance(seconds=3600)
    push(client)
    assert daraja.paths().count(TOKEN_PATH) == 2


def test_short_lived_token_is_still_used(client: DarajaClient, daraja: FakeDaraja, clock: FixedClock) -> None:
    daraja.expires_in = "30"
    daraja.on(STK_PUSH_PATH, ok(), ok())
    push(client)
    clock.advance(seconds=10)
    push(client)
    assert daraja.paths().count(TOKEN_PATH) == 1


@pytest.mark.parametrize(
    "refusal",
    [
        daraja_error(401, "404.001.03", "Invalid Access Token"),
        daraja_error(404, "404.001.03", "Invalid Access Token"),
        httpx.Response(401, text=""),
    ],
)
def test_refused_token_is_refreshed_once_and_the_call_retried(
    client: DarajaClient, daraja: FakeDaraja, refusal: httpx.Response
) -> None:
    daraja.on(STK_PUSH_PATH, refusal, ok())

    accepted = push(client)

    assert accepted.checkout_request_id == "ws_CO_191220191020363925"
    assert daraja.paths() == [TOKEN_PATH, STK_PUSH_PATH, TOKEN_PATH, STK_PUSH_PATH]
    assert [r.headers["Authorization"] for r in daraja.sent(STK_PUSH_PATH)] == ["Bearer tok-1", "Bearer tok-2"]


def test_token_refused_twice_is_an_auth_error(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(
        STK_PUSH_PATH,
        daraja_error(401, "404.001.03", "Invalid Access Token"),
        daraja_error(401, "404.001.03", "Invalid Access Token"),
    )
    with pytest.raises(InvalidAccessToken) as info:
        push(client)
    assert isinstance(info.value, AuthError)
    assert not info.value.transient
    assert daraja.paths().count(STK_PUSH_PATH) == 2


def test_query_also_refreshes_a_refused_token(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(
        STK_QUERY_PATH,
        daraja_error(401, "404.001.03", "Invalid Access Token"),
        httpx.Response(200, json=load("mpesa_stk_query_response.json")),
    )
    assert client.stk_query("ws_CO_13012021093521236557").result_code == 0


@pytest.mark.parametrize(
    "reply",
    [
        daraja_error(400, "400.008.01", "Invalid Authentication passed"),
        httpx.Response(401, text=""),
    ],
)
def test_rejected_credentials_are_an_auth_error_and_nothing_is_pushed(
    client: DarajaClient, daraja: FakeDaraja, reply: httpx.Response
) -> None:
    daraja.token_replies.append(reply)
    with pytest.raises(DarajaAuthError) as info:
        push(client)
    assert isinstance(info.value, AuthError)
    assert not info.value.transient
    assert daraja.paths() == [TOKEN_PATH]


@pytest.mark.parametrize(
    "reply",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.Response(200, json={"expires_in": "3599"}),
    ],
)
def test_token_trouble_is_transient_and_never_an_unknown_push(
    client: DarajaClient, daraja: FakeDaraja, reply: httpx.Response | Exception
) -> None:
    daraja.token_replies.append(reply)
    with pytest.raises(DarajaError) as info:
        push(client)
    assert info.type is DarajaError
    assert info.value.transient
    assert daraja.paths() == [TOKEN_PATH]


# -- push failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
        httpx.Response(504, text="<html>Gateway Timeout</html>"),
        httpx.Response(502, text=""),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        # Accepted, but with nothing to track the push by.
        httpx.Response(200, json={"ResponseCode": "0", "ResponseDescription": "Success"}),
    ],
)
def test_answer_lost_after_the_push_was_sent_is_push_outcome_unknown(
    client: DarajaClient, daraja: FakeDaraja, failure: httpx.Response | Exception
) -> None:
    daraja.on(STK_PUSH_PATH, failure)
    with pytest.raises(PushOutcomeUnknown) as info:
        push(client)
    error = info.value
    assert isinstance(error, ProviderError)
    assert error.provider == "mpesa"
    assert error.sent
    assert not error.transient  # jobs must not retry it: that would be a second prompt
    assert daraja.paths().count(STK_PUSH_PATH) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out"), httpx.PoolTimeout("")],
)
def test_failure_before_sending_is_transient_and_not_sent(
    client: DarajaClient, daraja: FakeDaraja, failure: Exception
) -> None:
    daraja.on(STK_PUSH_PATH, failure)
    with pytest.raises(DarajaError) as info:
        push(client)
    assert not isinstance(info.value, PushOutcomeUnknown)
    assert info.value.transient
    assert info.value.sent is False


def test_validation_error_from_daraja_is_not_transient(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, daraja_error(400, "400.002.02", "Bad Request - Invalid PhoneNumber"))
    with pytest.raises(DarajaError) as info:
        push(client)
    error = info.value
    assert (error.code, error.message, error.status_code) == ("400.002.02", "Bad Request - Invalid PhoneNumber", 400)
    assert error.request_id == "11728-2929992-1"
    assert not error.transient
    assert not isinstance(error, PushOutcomeUnknown)


def test_daraja_refusing_with_a_5xx_error_document_is_transient(client: DarajaClient, daraja: FakeDaraja) -> None:
    # Daraja's gateway answered with its own error document: it refused, nothing was pushed.
    daraja.on(
        STK_PUSH_PATH,
        daraja_error(500, "500.001.1001", "Unable to lock subscriber, a transaction is already in process"),
    )
    with pytest.raises(DarajaError) as info:
        push(client)
    assert not isinstance(info.value, PushOutcomeUnknown)
    assert info.value.transient


def test_rate_limit_is_transient_with_retry_after(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, daraja_error(429, "429.001.01", "Too many requests", **{"Retry-After": "30"}))
    with pytest.raises(DarajaError) as info:
        push(client)
    assert info.value.transient
    assert info.value.retry_after == 30.0


def test_a_200_that_does_not_accept_is_refused(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_PUSH_PATH, httpx.Response(200, json={"ResponseCode": "1", "ResponseDescription": "Rejected"}))
    with pytest.raises(DarajaError) as info:
        push(client)
    assert (info.value.code, info.value.message) == ("1", "Rejected")
    assert not info.value.transient


# -- the query ---------------------------------------------------------------------------


def test_query_sends_password_and_reads_the_string_result_code(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_QUERY_PATH, httpx.Response(200, json=load("mpesa_stk_query_response.json")))

    result = client.stk_query("ws_CO_13012021093521236557")

    assert result.result_code == 0  # "0" in the answer
    assert result.result_desc == "The service request is processed successfully."
    assert not result.pending
    assert result.outcome is Outcome.PAID
    (request,) = daraja.sent(STK_QUERY_PATH)
    password = base64.b64encode(("174379" + SANDBOX_PASSKEY + "20160216165627").encode()).decode()
    assert body_of(request) == {
        "BusinessShortCode": "174379",
        "Password": password,
        "Timestamp": "20160216165627",
        "CheckoutRequestID": "ws_CO_13012021093521236557",
    }
    assert request.headers["Authorization"] == "Bearer tok-1"


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("1032", Outcome.CANCELLED), ("1037", Outcome.TIMEOUT), ("1", Outcome.FAILED), (2001, Outcome.FAILED)],
)
def test_query_final_results(client: DarajaClient, daraja: FakeDaraja, code: object, outcome: Outcome) -> None:
    answer = {"ResponseCode": "0", "ResultCode": code, "ResultDesc": "..."}
    daraja.on(STK_QUERY_PATH, httpx.Response(200, json=answer))
    result = client.stk_query("ws_CO_1")
    assert result.result_code == int(str(code))
    assert not result.pending
    assert result.outcome is outcome


@pytest.mark.parametrize(
    "answer",
    [
        daraja_error(500, "500.001.1001", "The transaction is being processed"),
        daraja_error(500, "500.001.1001", ""),
        daraja_error(200, "500.001.1001", ""),  # observed: the same error inside a 200
        httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "4999", "ResultDesc": "still under processing"}),
    ],
)
def test_query_while_the_prompt_is_unanswered_is_pending(
    client: DarajaClient, daraja: FakeDaraja, answer: httpx.Response
) -> None:
    daraja.on(STK_QUERY_PATH, answer)
    result = client.stk_query("ws_CO_1")
    assert result.pending
    assert result.outcome is None


@pytest.mark.parametrize("message", ["Wrong credentials", "Merchant does not exist"])
def test_configuration_errors_sharing_the_processing_code_are_neither_pending_nor_transient(
    client: DarajaClient, daraja: FakeDaraja, message: str
) -> None:
    # Daraja (and our sandbox) answer a bad Password or unknown shortcode with 500.001.1001 too.
    daraja.on(STK_QUERY_PATH, daraja_error(500, "500.001.1001", message))
    daraja.on(STK_PUSH_PATH, daraja_error(500, "500.001.1001", message))
    with pytest.raises(DarajaError) as info:
        client.stk_query("ws_CO_1")
    assert not info.value.transient
    with pytest.raises(DarajaError) as info:
        push(client)
    assert not isinstance(info.value, PushOutcomeUnknown)
    assert not info.value.transient


def test_query_being_processed_message_is_kept(client: DarajaClient, daraja: FakeDaraja) -> None:
    daraja.on(STK_QUERY_PATH, daraja_error(500, "500.001.1001", "The transaction is being processed"))
    assert client.stk_query("ws_CO_1") == StkQueryResult(None, "The transaction is being processed", pending=True)


@pytest.mark.parametrize(
    ("answer", "transient"),
    [
        (daraja_error(400, "400.002.02", "Bad Request - Invalid CheckoutRequestID"), False),
        (daraja_error(503, "503.001.01", "Service unavailable"), True),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), True),
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "zero"}), True),
    ],
)
def test_query_errors(client: DarajaClient, daraja: FakeDaraja, answer: object, transient: bool) -> None:
    daraja.on(STK_QUERY_PATH, answer)  # type: ignore[arg-type]
    with pytest.raises(DarajaError) as info:
        client.stk_query("ws_CO_1")
    assert not isinstance(info.value, PushOutcomeUnknown)  # a query is always safe to repeat
    assert info.value.transient is transient


def test_query_needs_a_checkout_request_id(client: DarajaClient, daraja: FakeDaraja) -> None:
    with pytest.raises(ValueError, match="checkout_request_id"):
        client.stk_query(" ")
    assert daraja.requests == []


# -- hygiene -----------------------------------------------------------------------------


def test_logs_and_reprs_carry_no_secrets_or_full_phone_numbers(
    client: DarajaClient, daraja: FakeDaraja, caplog: pytest.LogCaptureFixture
) -> None:
    daraja.on(STK_PUSH_PATH, daraja_error(401, "404.001.03", "Invalid Access Token"), ok(), httpx.ReadTimeout("x"))
    daraja.on(STK_QUERY_PATH, daraja_error(500, "500.001.1001", "The transaction is being processed"))
    caplog.set_level(logging.DEBUG, logger="channels.mpesa")

    push(client)
    with pytest.raises(PushOutcomeUnknown) as info:
        push(client)
    client.stk_query("ws_CO_191220191020363925")

    password = load("mpesa_stk_request.json")["Password"]
    secrets = ["tok-1", "tok-2", SANDBOX_PASSKEY, "test-consumer-secret", "test-consumer-key", password]
    texts = [record.getMessage() for record in caplog.records] + [repr(client), repr(info.value), str(info.value)]
    assert any("stk push accepted" in text for text in texts)
    for text in texts:
        for secret in secrets:
            assert secret not in text
        assert "708374149" not in text


def test_token_is_fetched_again_after_a_long_pause(client: DarajaClient, daraja: FakeDaraja, clock: FixedClock) -> None:
    daraja.on(STK_QUERY_PATH, *(httpx.Response(200, json=load("mpesa_stk_query_response.json")) for _ in "ab"))
    client.stk_query("ws_CO_1")
    clock.advance(days=1)
    client.stk_query("ws_CO_1")
    assert daraja.paths() == [TOKEN_PATH, STK_QUERY_PATH, TOKEN_PATH, STK_QUERY_PATH]
