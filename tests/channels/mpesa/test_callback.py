"""parse_callback over the recorded Daraja callbacks, constructed variants and garbage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.mpesa.callback import StkCallback, parse_callback
from channels.mpesa.errors import MalformedCallback
from channels.mpesa.results import Outcome
from tests.channels.mpesa.conftest import load, raw


def callback(inner: dict[str, Any]) -> dict[str, Any]:
    return {"Body": {"stkCallback": inner}}


def success(*items: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": "ws_CO_191220191020363925",
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": list(items)},
    }
    inner.update(overrides)
    return callback(inner)


AMOUNT = {"Name": "Amount", "Value": 1.0}
RECEIPT = {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"}
DATE = {"Name": "TransactionDate", "Value": 20191219102115}
PHONE = {"Name": "PhoneNumber", "Value": 254708374149}


# -- recorded payloads -------------------------------------------------------------------


def test_recorded_success() -> None:
    parsed = parse_callback(raw("mpesa_stk_callback_success.json"))
    assert parsed == StkCallback(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=0,
        result_desc="The service request is processed successfully.",
        amount_minor=100,  # "Value": 1.0 shillings
        receipt="NLJ7RT61SV",
        phone_e164="+254708374149",
        transaction_date=datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC),  # 10:21:15 in Nairobi
    )
    assert parsed.paid
    assert parsed.outcome is Outcome.PAID


def test_recorded_cancelled() -> None:
    parsed = parse_callback(raw("mpesa_stk_callback_cancelled.json"))
    assert parsed.result_code == 1032
    assert parsed.result_desc == "Request cancelled by user."
    assert parsed.outcome is Outcome.CANCELLED
    assert parsed.result.reason == "cancelled"
    assert not parsed.paid
    assert (parsed.amount_minor, parsed.receipt, parsed.phone_e164, parsed.transaction_date) == (None,) * 4


@pytest.mark.parametrize(
    "body",
    [
        raw("mpesa_stk_callback_success.json"),
        raw("mpesa_stk_callback_success.json").decode(),
        load("mpesa_stk_callback_success.json"),
    ],
    ids=["bytes", "str", "dict"],
)
def test_body_may_be_bytes_text_or_decoded(body: Any) -> None:
    assert parse_callback(body).receipt == "NLJ7RT61SV"


# -- constructed payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "outcome", "reason"),
    [
        ("constructed_callback_insufficient_funds.json", 1, Outcome.FAILED, "insufficient_funds"),
        ("constructed_callback_1032_string_code.json", 1032, Outcome.CANCELLED, "cancelled"),
        ("constructed_callback_timeout.json", 1037, Outcome.TIMEOUT, "timeout"),
        ("constructed_callback_wrong_pin.json", 2001, Outcome.FAILED, "wrong_pin"),
        ("constructed_callback_1036.json", 1036, Outcome.FAILED, "failed"),
    ],
)
def test_failure_callbacks(name: str, code: int, outcome: Outcome, reason: str) -> None:
    parsed = parse_callback(raw(name))
    assert parsed.result_code == code
    assert parsed.outcome is outcome
    assert parsed.result.reason == reason
    assert parsed.amount_minor is None
    assert parsed.receipt is None


def test_integer_amount_and_balance_without_value() -> None:
    parsed = parse_callback(raw("constructed_callback_int_amount_balance_without_value.json"))
    assert parsed.amount_minor == 150_000
    assert parsed.receipt == "RLA0R69NXM"
    assert parsed.phone_e164 == "+254768130105"
    assert parsed.transaction_date == datetime(2023, 12, 10, 10, 34, 16, tzinfo=UTC)


def test_numbers_sent_as_strings() -> None:
    parsed = parse_callback(raw("constructed_callback_string_numbers.json"))
    assert parsed.result_code == 0
    assert parsed.amount_minor == 150_000
    assert parsed.phone_e164 == "+254112345678"
    assert parsed.transaction_date == datetime(2023, 12, 10, 10, 34, 16, tzinfo=UTC)


def test_items_are_read_by_name_not_position() -> None:
    reordered = parse_callback(raw("constructed_callback_items_reordered.json"))
    assert reordered == parse_callback(raw("mpesa_stk_callback_success.json"))


@pytest.mark.parametrize(
    ("value", "minor"),
    [(1, 100), (1.0, 100), ("1", 100), ("1.00", 100), (0.5, 50), (250000, 25_000_000), (10.01, 1001), ("7.10", 710)],
)
def test_amounts_convert_exactly(value: object, minor: int) -> None:
    parsed = parse_callback(success({"Name": "Amount", "Value": value}, RECEIPT))
    assert parsed.amount_minor == minor


@pytest.mark.parametrize("value", [254708374149.0, "254708374149", "+254708374149", "0708374149"])
def test_phone_forms(value: object) -> None:
    parsed = parse_callback(success(AMOUNT, RECEIPT, {"Name": "PhoneNumber", "Value": value}))
    assert parsed.phone_e164 == "+254708374149"


@pytest.mark.parametrize("value", ["2547****4149", "c0ffee1234abcd", True, [], "12"])
def test_unreadable_phone_is_unknown_not_an_error(value: object) -> None:
    # Daraja has masked or hashed MSISDNs in notifications; the amount and receipt still count.
    parsed = parse_callback(success(AMOUNT, RECEIPT, {"Name": "PhoneNumber", "Value": value}))
    assert parsed.phone_e164 is None
    assert parsed.amount_minor == 100


def test_unknown_items_and_extra_fields_are_ignored() -> None:
    body = success(AMOUNT, RECEIPT, {"Name": "Balance"}, {"Name": "Future", "Value": {"x": 1}}, Extra="field")
    body["Body"]["other"] = 1
    assert parse_callback(body).receipt == "NLJ7RT61SV"


def test_result_code_as_float_and_string() -> None:
    assert parse_callback(callback({"CheckoutRequestID": "ws_1", "ResultCode": 1032.0})).result_code == 1032
    assert parse_callback(callback({"CheckoutRequestID": "ws_1", "ResultCode": " 1037 "})).outcome is Outcome.TIMEOUT


def test_unknown_result_code_is_a_plain_failure() -> None:
    parsed = parse_callback(callback({"CheckoutRequestID": "ws_1", "ResultCode": 4242, "ResultDesc": "?"}))
    assert parsed.outcome is Outcome.FAILED
    assert parsed.result.reason == "failed"


# -- malformed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "body is not JSON"),
        (b"<xml/>", "body is not JSON"),
        (b"\xff\xfe\x00garbage", "body is not JSON"),
        (b"[" * 100_000, "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (b"null", "body is not a JSON object"),
        ({}, "missing Body"),
        ({"body": {}}, "missing Body"),
        ({"Body": []}, "missing Body"),
        ({"Body": {}}, "missing Body.stkCallback"),
        ({"Body": {"stkCallback": "x"}}, "missing Body.stkCallback"),
        (callback({"ResultCode": 0}), "missing CheckoutRequestID"),
        (callback({"CheckoutRequestID": 123, "ResultCode": 0}), "missing CheckoutRequestID"),
        (callback({"CheckoutRequestID": "ws_1"}), "missing ResultCode"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": "abc"}), "ResultCode is not a number"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": True}), "ResultCode is not a number"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": 1.5}), "ResultCode is not a number"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": 4999}), "ResultCode 4999 is not a final result"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": 1, "ResultDesc": 5}), "ResultDesc is not a string"),
        (callback({"CheckoutRequestID": "ws_1", "ResultCode": 1, "MerchantRequestID": 5}), "MerchantRequestID"),
        (success(RECEIPT), "success without Amount or MpesaReceiptNumber"),
        (success(AMOUNT), "success without Amount or MpesaReceiptNumber"),
        (success({"Name": "Amount"}, RECEIPT), "success without Amount or MpesaReceiptNumber"),
        (success({"Name": "Amount", "Value": 1.005}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": "1,000"}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": "1_000"}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": -1}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": 0}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": "NaN"}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": float("inf")}, RECEIPT), "Amount is unreadable"),
        (success({"Name": "Amount", "Value": True}, RECEIPT), "Amount is unreadable"),
        (success(AMOUNT, {"Name": "MpesaReceiptNumber", "Value": 12}), "MpesaReceiptNumber is unreadable"),
        (success(AMOUNT, {"Name": "MpesaReceiptNumber", "Value": "NLJ 7RT"}), "MpesaReceiptNumber is unreadable"),
        (success(AMOUNT, RECEIPT, {"Name": "TransactionDate", "Value": "2019-12-19"}), "TransactionDate"),
        (success(AMOUNT, RECEIPT, {"Name": "TransactionDate", "Value": 20191399102115}), "TransactionDate"),
        (success(AMOUNT, RECEIPT, AMOUNT), "CallbackMetadata item Amount appears twice"),
        (success(AMOUNT, RECEIPT, {"Value": 1}), "CallbackMetadata item without a Name"),
        (
            success(AMOUNT, RECEIPT, "Amount"),  # type: ignore[arg-type]
            "CallbackMetadata item is not an object",
        ),
        (success(CallbackMetadata={"Item": "Amount"}), "CallbackMetadata.Item is not a list"),
        (success(CallbackMetadata=[AMOUNT, RECEIPT]), "CallbackMetadata is not an object"),
    ],
)
def test_malformed_callbacks(body: Any, reason: str) -> None:
    with pytest.raises(MalformedCallback) as info:
        parse_callback(body)
    assert reason in info.value.reason


def test_a_lone_item_object_is_read_as_a_list() -> None:
    body = success(CallbackMetadata={"Item": {"Name": "Amount", "Value": 5}})
    with pytest.raises(MalformedCallback, match="MpesaReceiptNumber"):
        parse_callback(body)  # no receipt: but the Amount item itself was readable
    failed = callback({"CheckoutRequestID": "ws_1", "ResultCode": 1, "CallbackMetadata": {"Item": {"Name": "Balance"}}})
    assert parse_callback(failed).result_code == 1


# -- properties --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)

item_values: st.SearchStrategy[object] = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=16) | st.just([])
)
item_names = st.sampled_from(["Amount", "MpesaReceiptNumber", "TransactionDate", "PhoneNumber", "Balance", "X"])
items = st.lists(
    st.fixed_dictionaries({"Name": item_names}, optional={"Value": item_values}) | json_values,
    max_size=6,
)
near_valid = st.builds(
    lambda code, checkout, meta: callback(
        {"MerchantRequestID": "m", "CheckoutRequestID": checkout, "ResultCode": code, "CallbackMetadata": meta}
    ),
    st.integers() | st.text(max_size=6) | st.floats() | st.none(),
    st.text(max_size=8) | st.integers(),
    st.none() | st.fixed_dictionaries({"Item": items}) | json_values,
)


def _parses_or_refuses(body: Any) -> None:
    try:
        parsed = parse_callback(body)
    except MalformedCallback:
        return
    assert isinstance(parsed.result_code, int)
    assert parsed.checkout_request_id
    if parsed.amount_minor is not None:
        assert isinstance(parsed.amount_minor, int)
        assert parsed.amount_minor > 0
    if parsed.transaction_date is not None:
        assert parsed.transaction_date.tzinfo is UTC
    if parsed.paid:
        assert parsed.amount_minor is not None
        assert parsed.receipt is not None
    assert parsed.outcome in set(Outcome)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_never_raises_anything_but_malformed(value: Any) -> None:
    _parses_or_refuses(value)
    _parses_or_refuses(json.dumps(value).encode())


@settings(max_examples=300)
@given(near_valid)
def test_near_valid_callbacks_never_raise_anything_but_malformed(body: Any) -> None:
    _parses_or_refuses(body)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_malformed(body: bytes) -> None:
    _parses_or_refuses(body)


def test_recorded_payload_files_are_all_parsed() -> None:
    # Every callback file in the data folder is readable (guards against a typo'd fixture).
    for name in [
        "mpesa_stk_callback_success.json",
        "mpesa_stk_callback_cancelled.json",
        "constructed_callback_insufficient_funds.json",
        "constructed_callback_1032_string_code.json",
        "constructed_callback_timeout.json",
        "constructed_callback_wrong_pin.json",
        "constructed_callback_1036.json",
        "constructed_callback_int_amount_balance_without_value.json",
        "constructed_callback_string_numbers.json",
        "constructed_callback_items_reordered.json",
    ]:
        assert parse_callback(load(name)).checkout_request_id
