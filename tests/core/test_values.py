"""Money and phone numbers: integers in minor units, E.164 in storage, masked in logs."""

from __future__ import annotations

import pytest

from core import money, phones
from core.errors import Invalid


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [(444_200, "KES", "KES 4,442"), (150, "KES", "KES 1.50"), (-5_000, "KES", "KES -50"), (2_500, "UGX", "UGX 2,500")],
)
def test_format_amount(minor: int, currency: str, shown: str) -> None:
    assert money.format_amount(minor, currency) == shown


def test_format_refuses_floats() -> None:
    with pytest.raises(TypeError):
        money.format_amount(1.5, "KES")  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "minor"), [("500", 50_000), ("1,000", 100_000), ("KES 2500", 250_000), (" 7 ", 700)])
def test_parse_whole_amount(typed: str, minor: int) -> None:
    assert money.parse_whole_amount(typed, "KES") == minor


@pytest.mark.parametrize("typed", ["", "0", "-5", "1.5", "abc", "5e3", "1,00", "99999999999"])
def test_parse_rejects(typed: str) -> None:
    with pytest.raises(Invalid) as error:
        money.parse_whole_amount(typed, "KES")
    assert error.value.field == "amount"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0712345678", "+254712345678"),
        ("254712345678", "+254712345678"),
        ("+254 712 345 678", "+254712345678"),
        ("0110123456", "+254110123456"),
    ],
)
def test_normalise(raw: str, e164: str) -> None:
    assert phones.normalise(raw) == e164


@pytest.mark.parametrize("raw", ["", "123", "not a phone", "+2547"])
def test_normalise_rejects(raw: str) -> None:
    with pytest.raises(Invalid):
        phones.normalise(raw)


def test_mask_hides_the_middle() -> None:
    assert phones.mask("+254712345678") == "+2547****5678"


@pytest.mark.parametrize("zone", ["Africa", "../etc", "Nowhere/Else", ""])
def test_unknown_time_zones_are_invalid_not_errors(zone: str) -> None:
    from core import orgs
    from core.tables import Organisation

    with pytest.raises(Invalid) as error:
        orgs.validate(Organisation(name="x", slug="x", timezone=zone))
    assert error.value.field == "timezone"
