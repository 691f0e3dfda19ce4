"""Daraja: OAuth, STK push validation and password check, callbacks and the status query."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.sandbox import SandboxConfig
from tests.bot.sandbox.helpers import (
    CALLBACK_URL,
    PAYER,
    Env,
    metadata,
    password,
    push,
    query,
    stk_body,
    stk_callback,
    token,
)

pytestmark = pytest.mark.anyio


async def test_token_is_issued_for_basic_credentials(env: Env) -> None:
    response = await env.api.get(
        "/oauth/v1/generate?grant_type=client_credentials", auth=("sandbox-consumer-key", "sandbox-consumer-secret")
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == "3599"  # a string, as Daraja sends it
    assert re.fullmatch(r"[A-Za-z0-9]{28}", body["access_token"])


@pytest.mark.parametrize(
    ("query_string", "auth", "code"),
    [
        ("grant_type=client_credentials", ("sandbox-consumer-key", "wrong"), "400.008.01"),
        ("grant_type=client_credentials", None, "400.008.01"),
        ("grant_type=password", ("sandbox-consumer-key", "sandbox-consumer-secret"), "400.008.02"),
    ],
)
async def test_token_refused(env: Env, query_string: str, auth: tuple[str, str] | None, code: str) -> None:
    response = await env.api.get(f"/oauth/v1/generate?{query_string}", auth=auth)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == code


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
async def test_push_needs_a_valid_bearer_token(env: Env, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await env.api.post("/mpesa/stkpush/v1/processrequest", json=stk_body(), headers=headers)

    assert response.status_code == 401
    assert response.json()["errorCode"] == "404.001.03"
    assert response.json()["errorMessage"] == "Invalid Access Token"


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(daraja_token_ttl_seconds=0)])
async def test_expired_token_is_refused(env: Env) -> None:
    response = await push(env)

    assert response.status_code == 401


async def test_successful_push_answers_then_calls_back(env: Env) -> None:
    response = await push(env)

    assert response.status_code == 200
    sync = response.json()
    assert set(sync) == {
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResponseCode",
        "ResponseDescription",
        "CustomerMessage",
    }
    assert sync["ResponseCode"] == "0"
    assert sync["ResponseDescription"] == "Success. Request accepted for processing"
    assert re.fullmatch(r"ws_CO_\d{20}", sync["CheckoutRequestID"])
    assert re.fullmatch(r"\d{5}-\d{8}-1", sync["MerchantRequestID"])

    await env.sandbox.drain()
    [body] = env.receiver.json_at(CALLBACK_URL)
    callback = stk_callback(body)
    assert callback["MerchantRequestID"] == sync["MerchantRequestID"]
    assert callback["CheckoutRequestID"] == sync["CheckoutRequestID"]
    assert callback["ResultCode"] == 0
    assert callback["ResultDesc"] == "The service request is processed successfully."
    items = metadata(callback)
    assert [item["Name"] for item in callback["CallbackMetadata"]["Item"]] == [
        "Amount",
        "MpesaReceiptNumber",
        "Balance",
        "TransactionDate",
        "PhoneNumber",
    ]
    assert items["Amount"] == 100
    assert re.fullmatch(r"SBX[A-Z0-9]{7}", items["MpesaReceiptNumber"])
    assert items["Balance"] == "absent"
    assert isinstance(items["TransactionDate"], int)
    assert re.fullmatch(r"20\d{12}", str(items["TransactionDate"]))
    assert items["PhoneNumber"] == int(PAYER)


async def test_push_puts_prompt_and_receipt_on_the_phone(env: Env) -> None:
    checkout_id = (await push(env)).json()["CheckoutRequestID"]
    await env.sandbox.drain()

    prompt, receipt = env.sandbox.outbox.items(to=PAYER, provider="daraja")
    assert prompt.kind == "stk_push"
    assert prompt.ids["CheckoutRequestID"] == checkout_id
    assert "KES 100" in prompt.body
    assert receipt.kind == "mpesa_receipt"
    assert receipt.body.startswith(receipt.ids["MpesaReceiptNumber"] + " Confirmed.")


async def test_numbers_are_accepted_as_json_numbers(env: Env) -> None:
    body = stk_body(BusinessShortCode=174379, Amount=5, PartyA=int(PAYER), PartyB=174379, PhoneNumber=int(PAYER))

    response = await push(env, body)

    assert response.status_code == 200, response.text


async def test_receipts_are_unique(env: Env) -> None:
    for _ in range(20):
        assert (await push(env)).status_code == 200
    await env.sandbox.drain()

    receipts = [metadata(stk_callback(body))["MpesaReceiptNumber"] for body in env.receiver.json_at(CALLBACK_URL)]
    assert len(receipts) == 20
    assert len(set(receipts)) == 20


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("BusinessShortCode", "17437x"),
        ("Timestamp", "2026-11-22 12:30"),
        ("Timestamp", "20261322123000"),
        ("TransactionType", "CustomerPayBill"),
        ("Amount", "10.50"),
        ("Amount", 10.0),
        ("Amount", 0),
        ("Amount", -5),
        ("Amount", True),
        ("PartyA", "0712345678"),
        ("PartyB", "till-1"),
        ("PhoneNumber", "254812345678"),
        ("PhoneNumber", "+254712345678"),
        ("CallBackURL", "not a url"),
        ("CallBackURL", "ftp://bot.example/cb"),
        ("AccountReference", "ABCDEFGHIJKLM"),
        ("AccountReference", ""),
        ("TransactionDesc", ""),
        ("TransactionDesc", None),
    ],
)
async def test_push_field_validation(env: Env, field: str, value: Any) -> None:
    response = await push(env, stk_body(**{field: value}))

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == "400.002.02"
    assert body["errorMessage"] == f"Bad Request - Invalid {field}"
    assert env.sandbox.outbox.items() == []


async def test_push_with_buy_goods_and_twelve_char_reference(env: Env) -> None:
    body = stk_body(TransactionType="CustomerBuyGoodsOnline", PartyB="5123456", AccountReference="ABCDEFGHIJKL")

    assert (await push(env, body)).status_code == 200


async def test_wrong_password_is_refused(env: Env) -> None:
    response = await push(env, stk_body(Password=password(passkey="not-the-passkey")))

    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.001.1001"
    assert response.json()["errorMessage"] == "Wrong credentials"


async def test_password_must_match_the_timestamp(env: Env) -> None:
    response = await push(env, stk_body(Timestamp="20261122123001"))

    assert response.json()["errorMessage"] == "Wrong credentials"


async def test_unknown_shortcode_is_refused(env: Env) -> None:
    response = await push(env, stk_body(BusinessShortCode="600000", Password=password("600000")))

    assert response.status_code == 500
    assert response.json()["errorMessage"] == "Merchant does not exist"


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(callback_delay_seconds=0, daraja_extra_shortcodes=(("600100", "k3y"),))]
)
async def test_extra_shortcode_uses_its_own_passkey(env: Env) -> None:
    body = stk_body(BusinessShortCode="600100", PartyB="600100", Password=password("600100", "k3y"))

    assert (await push(env, body)).status_code == 200


async def test_invalid_json_is_refused(env: Env) -> None:
    bearer = await token(env)
    response = await env.api.post(
        "/mpesa/stkpush/v1/processrequest", content=b"{nope", headers={"Authorization": f"Bearer {bearer}"}
    )

    assert response.status_code == 400
    assert response.json()["errorCode"] == "400.002.02"


@pytest.mark.parametrize(
    ("phone", "code", "desc"),
    [
        ("254708000001", 1032, "Request cancelled by user."),
        ("254708000002", 2001, "The initiator information is invalid."),
        ("254708000003", 1, "The balance is insufficient for the transaction."),
        ("254708000004", 1037, "DS timeout user cannot be reached"),
    ],
)
async def test_failure_numbers_call_back_without_metadata(env: Env, phone: str, code: int, desc: str) -> None:
    checkout_id = (await push(env, phone=phone)).json()["CheckoutRequestID"]
    await env.sandbox.drain()

    [body] = env.receiver.json_at(CALLBACK_URL)
    callback = stk_callback(body)
    assert callback == {
        "MerchantRequestID": callback["MerchantRequestID"],
        "CheckoutRequestID": checkout_id,
        "ResultCode": code,
        "ResultDesc": desc,
    }
    result = (await query(env, checkout_id)).json()
    assert result["ResultCode"] == str(code)
    assert result["ResultDesc"] == desc
    assert env.sandbox.outbox.items(kind="mpesa_receipt") == []


async def test_query_after_success(env: Env) -> None:
    sync = (await push(env)).json()
    await env.sandbox.drain()

    response = await query(env, sync["CheckoutRequestID"])

    assert response.status_code == 200
    assert response.json() == {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": sync["MerchantRequestID"],
        "CheckoutRequestID": sync["CheckoutRequestID"],
        "ResultCode": "0",
        "ResultDesc": "The service request is processed successfully.",
    }


async def test_query_while_pending_says_being_processed(env: Env) -> None:
    checkout_id = (await push(env, phone="254708000012")).json()["CheckoutRequestID"]
    await env.sandbox.drain()

    response = await query(env, checkout_id)

    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == "500.001.1001"
    assert body["errorMessage"] == "The transaction is being processed"
    assert env.receiver.requests == []


@pytest.mark.parametrize(
    ("checkout_id", "overrides", "status", "message"),
    [
        ("ws_CO_000", {}, 400, "Bad Request - Invalid CheckoutRequestID"),
        (None, {"Password": "bm9wZQ=="}, 500, "Wrong credentials"),
        (None, {"Timestamp": "yesterday"}, 400, "Bad Request - Invalid Timestamp"),
    ],
)
async def test_query_refusals(
    env: Env, checkout_id: str | None, overrides: dict[str, str], status: int, message: str
) -> None:
    existing = (await push(env)).json()["CheckoutRequestID"]

    response = await query(env, checkout_id or existing, **overrides)

    assert response.status_code == status
    assert response.json()["errorMessage"] == message


async def test_query_needs_a_token(env: Env) -> None:
    response = await env.api.post("/mpesa/stkpushquery/v1/query", json={})

    assert response.status_code == 401


async def test_lost_callback_settles_only_in_the_query(env: Env) -> None:
    checkout_id = (await push(env, phone="254708000005")).json()["CheckoutRequestID"]
    await env.sandbox.drain()

    assert env.receiver.requests == []
    result = (await query(env, checkout_id)).json()
    assert result["ResultCode"] == "0"
    assert env.sandbox.outbox.items(kind="mpesa_receipt")  # the money did move


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(callback_delay_seconds=0, lost_callback_settle_seconds=60)])
async def test_lost_callback_is_pending_until_it_settles(env: Env) -> None:
    checkout_id = (await push(env, phone="254708000005")).json()["CheckoutRequestID"]

    response = await query(env, checkout_id)

    assert response.status_code == 500
    assert response.json()["errorMessage"] == "The transaction is being processed"


async def test_duplicate_callback_is_sent_twice(env: Env) -> None:
    await push(env, phone="254708000006")
    await env.sandbox.drain()

    first, second = env.receiver.json_at(CALLBACK_URL)
    assert first == second
    assert stk_callback(first)["ResultCode"] == 0


async def test_callback_arrives_before_the_push_response(env: Env) -> None:
    response = await push(env, phone="254708000007")
    env.receiver.log.append("response")

    assert response.status_code == 200
    assert env.receiver.log == ["callback", "response"]
    [body] = env.receiver.json_at(CALLBACK_URL)
    assert stk_callback(body)["CheckoutRequestID"] == response.json()["CheckoutRequestID"]


async def test_rejected_number_gets_a_daraja_error(env: Env) -> None:
    response = await push(env, phone="254708000008")
    await env.sandbox.drain()

    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.001.1001"
    assert "Unable to lock subscriber" in response.json()["errorMessage"]
    assert env.receiver.requests == []
    assert env.sandbox.outbox.items() == []


@pytest.mark.parametrize("failure", ["down", "500"])
async def test_unreachable_callback_target_does_not_break_the_sandbox(env: Env, failure: str) -> None:
    env.receiver.failure = failure

    first = await push(env)
    await env.sandbox.drain()
    second = await push(env)
    await env.sandbox.drain()

    assert first.status_code == second.status_code == 200
    assert len(env.receiver.requests) == 2
    assert (await query(env, first.json()["CheckoutRequestID"])).json()["ResultCode"] == "0"
