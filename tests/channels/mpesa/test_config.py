"""DarajaCredentials: defaults, validation and a repr without secrets."""

from __future__ import annotations

import dataclasses

import pytest

from channels.mpesa.config import LIVE_URL, DarajaCredentials, TransactionType


def credentials(**overrides: object) -> DarajaCredentials:
    values: dict[str, object] = {
        "base_url": LIVE_URL,
        "consumer_key": "ck-visible-nowhere",
        "consumer_secret": "cs-visible-nowhere",
        "shortcode": "600000",
        "passkey": "pk-visible-nowhere",
    }
    values.update(overrides)
    return DarajaCredentials(**values)  # type: ignore[arg-type]


def test_repr_and_str_hide_secrets() -> None:
    creds = credentials()
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "visible-nowhere" not in text
        assert "600000" in text


def test_defaults_paybill_and_party_b_is_the_shortcode() -> None:
    creds = credentials(base_url="https://api.safaricom.co.ke/")
    assert creds.transaction_type is TransactionType.PAYBILL
    assert creds.party_b == "600000"
    assert creds.base_url == LIVE_URL


def test_buy_goods_from_settings_string() -> None:
    creds = credentials(transaction_type="CustomerBuyGoodsOnline", party_b="5123456")
    assert creds.transaction_type is TransactionType.BUY_GOODS
    assert creds.party_b == "5123456"


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        credentials().passkey = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"transaction_type": "CustomerPayBill"}, "TransactionType"),
        ({"shortcode": "17437a"}, "shortcode"),
        ({"shortcode": "12"}, "shortcode"),
        ({"party_b": "till"}, "party_b"),
        ({"passkey": ""}, "passkey"),
        ({"consumer_secret": ""}, "consumer_secret"),
        ({"base_url": "sandbox.safaricom.co.ke"}, "base_url"),
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        credentials(**overrides)
