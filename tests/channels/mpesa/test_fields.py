"""Daraja field formats: password, timestamps, MSISDNs and exact amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.mpesa import fields
from channels.mpesa.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from tests.channels.mpesa.conftest import load


def test_password_reproduces_the_documented_sample() -> None:
    sample = load("mpesa_stk_request.json")
    assert fields.stk_password(SANDBOX_SHORTCODE, SANDBOX_PASSKEY, "20160216165627") == sample["Password"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2016, 2, 16, 13, 56, 27, tzinfo=UTC), "20160216165627"),
        (datetime(2024, 3, 1, 21, 0, 0, tzinfo=UTC), "20240302000000"),  # crosses midnight and month end
        (datetime(2024, 1, 1, 9, 5, 7, tzinfo=timezone(timedelta(hours=-5))), "20240101170507"),
    ],
)
def test_timestamp_is_nairobi_wall_clock(at: datetime, expected: str) -> None:
    assert fields.timestamp(at) == expected


def test_timestamp_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        fields.timestamp(datetime(2024, 1, 1))


def test_parse_timestamp_reads_nairobi_time_as_utc() -> None:
    assert fields.parse_timestamp("20191219102115") == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2019121910211", "201912191021150", "2019-12-19 10:21", "20191232102115", ""])
def test_parse_timestamp_refuses_other_shapes(value: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        fields.parse_timestamp(value)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_timestamp_round_trips(at: datetime) -> None:
    assert fields.parse_timestamp(fields.timestamp(at)) == at.replace(microsecond=0)


@pytest.mark.parametrize(
    ("phone", "msisdn"),
    [("+254708374149", "254708374149"), ("+254712345678", "254712345678"), ("+254110000000", "254110000000")],
)
def test_msisdn(phone: str, msisdn: str) -> None:
    assert fields.msisdn(phone) == msisdn


@pytest.mark.parametrize(
    "phone", ["+254208374149", "+255712345678", "254712345678", "0712345678", "+25471234567", "+254７12345678", ""]
)
def test_msisdn_refuses_what_cannot_get_a_push(phone: str) -> None:
    with pytest.raises(ValueError, match="Kenyan mobile"):
        fields.msisdn(phone)


@given(st.integers(min_value=1, max_value=10**11))
def test_whole_shillings_and_amount_to_minor_agree(shillings: int) -> None:
    minor = shillings * 100
    assert fields.whole_shillings(minor) == shillings
    assert fields.amount_to_minor(shillings) == minor
    assert fields.amount_to_minor(str(shillings)) == minor
    assert fields.amount_to_minor(f"{shillings}.00") == minor


@given(st.integers(min_value=1, max_value=10**13))
def test_amount_to_minor_is_exact_for_any_two_decimal_string(minor: int) -> None:
    text = str(Decimal(minor).scaleb(-2))
    assert fields.amount_to_minor(text) == minor


@pytest.mark.parametrize(
    ("value", "minor"), [(0.1, 10), (0.29, 29), (1.15, 115), (19.99, 1999), (1234567.89, 123456789), (1e6, 10**8)]
)
def test_amount_to_minor_takes_floats_without_float_error(value: float, minor: int) -> None:
    # 0.29 * 100 == 28.999999999999996 in float arithmetic; the answer must still be 29.
    assert fields.amount_to_minor(value) == minor


@pytest.mark.parametrize("value", [0, -1, 1.001, "1.001", "1e3", " ", "abc", None, True, [1], 10**13, float("nan")])
def test_amount_to_minor_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        fields.amount_to_minor(value)


@pytest.mark.parametrize(("value", "code"), [(0, 0), ("1032", 1032), (" 1 ", 1), (1037.0, 1037), ("-1", -1)])
def test_integer(value: object, code: int) -> None:
    assert fields.integer(value) == code


@pytest.mark.parametrize("value", [None, True, 1.5, "1.0", "1e3", "", "--1", "١٢", [1]])
def test_integer_refuses(value: object) -> None:
    assert fields.integer(value) is None


def test_account_reference_is_checked_not_cut() -> None:
    assert fields.account_reference(" INV-2024-01 ") == "INV-2024-01"
    with pytest.raises(ValueError, match="12"):
        fields.account_reference("INV-2024-0001")


def test_transaction_desc_is_cut_to_13() -> None:
    assert fields.transaction_desc("Contribution  for\tMay") == "Contribution"
    assert fields.transaction_desc("Loan repayment") == "Loan repaymen"
    assert len(fields.transaction_desc("x" * 40)) == fields.TRANSACTION_DESC_MAX
