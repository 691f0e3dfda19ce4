"""Daraja's field formats: timestamps, the STK password, MSISDNs and amounts.

Kept apart from the HTTP client so the provider sandbox and the callback parser use the
same rules.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Context, Decimal, InvalidOperation

EAT = timezone(timedelta(hours=3), "EAT")
"""Africa/Nairobi. Kenya has kept UTC+3 without daylight saving since 1942, so a fixed
offset is exact and needs no tz database in slim containers."""

TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"

ACCOUNT_REFERENCE_MAX = 12
"""Daraja docs: ``AccountReference`` is at most 12 characters. It is printed on the payer's
M-Pesa SMS, so it is user-visible text."""

TRANSACTION_DESC_MAX = 13
"""Daraja docs: ``TransactionDesc`` is 1 to 13 characters."""

_KENYAN_MOBILE = re.compile(r"\+254([17][0-9]{8})")
_TIMESTAMP = re.compile(r"[0-9]{14}")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_MAX_SHILLINGS = Decimal(10) ** 12  # far above any M-Pesa limit; bounds the arithmetic


def timestamp(at: datetime) -> str:
    """Daraja's ``Timestamp``: Nairobi wall-clock time as ``YYYYMMDDHHmmss``.

    Raises:
        ValueError: if ``at`` is naive (we never guess a timezone).
    """
    if at.tzinfo is None:
        raise ValueError("timestamp needs an aware datetime")
    return at.astimezone(EAT).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: str) -> datetime:
    """Read a ``YYYYMMDDHHmmss`` Nairobi time (e.g. ``TransactionDate``) as aware UTC.

    Raises:
        ValueError: if it is not 14 digits forming a real date and time.
    """
    if not _TIMESTAMP.fullmatch(value):
        raise ValueError("not a YYYYMMDDHHmmss timestamp")
    try:
        local = datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError as exc:
        raise ValueError("timestamp is not a real date and time") from exc
    return local.replace(tzinfo=EAT).astimezone(UTC)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """``Password`` = base64(shortcode + passkey + timestamp), as Daraja specifies."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def msisdn(phone_e164: str) -> str:
    """The ``2547XXXXXXXX`` / ``2541XXXXXXXX`` form Daraja wants for ``PartyA``/``PhoneNumber``.

    Only Kenyan mobile numbers can receive an STK push; the operator prefix list changes,
    so any 7xx/1xx mobile number is accepted and Daraja decides the rest.

    Raises:
        ValueError: if ``phone_e164`` is not ``+2547…`` or ``+2541…`` with 9 digits after 254.
    """
    match = _KENYAN_MOBILE.fullmatch(phone_e164) if isinstance(phone_e164, str) else None
    if match is None:
        raise ValueError("M-Pesa STK push needs a Kenyan mobile number in E.164 (+2547… or +2541…)")
    return "254" + match.group(1)


def e164_from_msisdn(value: object) -> str | None:
    """``254708374149`` (number or string) -> ``+254708374149``; ``None`` if unreadable.

    Daraja has masked or hashed MSISDNs in some notifications, so an unreadable number is
    "unknown", not an error.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lstrip("+") if isinstance(value, int | str) else ""
    if not text.isascii() or not text.isdigit():
        return None
    if len(text) == 10 and text.startswith("0"):
        text = "254" + text[1:]
    if not 8 <= len(text) <= 15 or text.startswith("0"):
        return None
    return "+" + text


def account_reference(value: str) -> str:
    """Check an ``AccountReference``: 1 to 12 printable ASCII characters.

    Never truncated: it identifies the payment on the payer's SMS, and cutting two long
    references to the same 12 characters would make them indistinguishable.

    Raises:
        ValueError: if empty, too long or not printable ASCII.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError("AccountReference is empty")
    if len(text) > ACCOUNT_REFERENCE_MAX:
        raise ValueError(f"AccountReference is longer than {ACCOUNT_REFERENCE_MAX} characters")
    if not (text.isascii() and text.isprintable()):
        raise ValueError("AccountReference must be printable ASCII")
    return text


def transaction_desc(value: str) -> str:
    """Fit a ``TransactionDesc``: whitespace collapsed, cut to 13 characters (free text).

    Raises:
        ValueError: if nothing printable is left.
    """
    text = " ".join(value.split()) if isinstance(value, str) else ""
    text = text[:TRANSACTION_DESC_MAX].rstrip()
    if not text or not text.isprintable():
        raise ValueError("TransactionDesc must be 1 to 13 printable characters")
    return text


def whole_shillings(amount_minor: int) -> int:
    """Minor units (cents) -> the whole-shilling ``Amount`` an STK push takes.

    Raises:
        TypeError: if ``amount_minor`` is not an int (floats are never money).
        ValueError: if it is not positive or not a whole number of shillings.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError("amount_minor must be an int number of cents")
    if amount_minor <= 0:
        raise ValueError("amount must be positive")
    shillings, cents = divmod(amount_minor, 100)
    if cents:
        raise ValueError("M-Pesa STK push takes whole shillings; amount_minor must be a multiple of 100")
    return shillings


def amount_to_minor(value: object) -> int:
    """A Daraja ``Amount`` (``1``, ``1.0``, ``"1.00"``) -> minor units, exactly (no float maths).

    Raises:
        ValueError: if it is not a positive, finite amount with at most two decimals.
    """
    if isinstance(value, bool):
        raise ValueError("amount is a boolean")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest string that round-trips: 1.0 -> "1.0", 0.1 -> "0.1".
        number = _decimal(repr(value))
    elif isinstance(value, str) and _PLAIN_DECIMAL.fullmatch(value.strip()):
        number = _decimal(value.strip())
    else:
        raise ValueError("amount is not a number")
    if not number.is_finite() or number <= 0:
        raise ValueError("amount is not a positive number")
    if number >= _MAX_SHILLINGS:
        raise ValueError("amount is implausibly large")
    # Shifting the exponent is exact when the precision holds every digit.
    digits = len(number.as_tuple().digits)
    minor = number.scaleb(2, Context(prec=digits + 4))
    if minor != minor.to_integral_value():
        raise ValueError("amount has fractions of a cent")
    return int(minor)


def integer(value: object) -> int | None:
    """A Daraja code or count sent as ``1032``, ``"1032"`` or ``1032.0`` -> 1032, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("amount is not a number") from exc
