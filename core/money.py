"""Amounts are integers in minor units of the organisation's currency; never floats."""

from __future__ import annotations

import re

from core.errors import Invalid

MINOR_UNITS = {"KES": 100, "UGX": 1, "TZS": 100, "RWF": 1, "USD": 100}
_WHOLE = re.compile(r"^\s*(?:ksh\.?|kes|sh\.?)?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*(?:/=|/-)?\s*$", re.I)


def minor_per_unit(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 100)


def format_amount(minor: int, currency: str) -> str:
    """``format_amount(444200, "KES") == "KES 4,442"``; cents shown only when present."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"amounts are int minor units, got {type(minor).__name__}")
    per = minor_per_unit(currency)
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), per)
    text = f"{whole:,}"
    if cents:
        width = len(str(per)) - 1
        text += f".{cents:0{width}d}"
    return f"{currency} {sign}{text}"


def parse_whole_amount(text: str, currency: str) -> int:
    """Read what a person types ("500", "1,000", "KES 2500") as minor units of whole units.

    Raises:
        Invalid: for anything that is not a positive whole number of currency units.
    """
    match = _WHOLE.match(text or "")
    if not match:
        raise Invalid("not a whole amount", field="amount")
    units = int(match.group(1).replace(",", ""))
    if units <= 0:
        raise Invalid("amount must be positive", field="amount")
    if units > 10**9:
        raise Invalid("amount too large", field="amount")
    return units * minor_per_unit(currency)
