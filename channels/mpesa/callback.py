"""Parse Daraja's STK push result callback (``{"Body": {"stkCallback": {...}}}``).

Callbacks are unsigned and Daraja sends each one once: the route should answer 200 at
once, and treat anything this module cannot read (:class:`MalformedCallback`) as a
log line, never a 500.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from channels.mpesa import fields
from channels.mpesa.errors import MalformedCallback
from channels.mpesa.results import PENDING_CODES, SUCCESS, Outcome, ResultInfo, describe

__all__ = ["MalformedCallback", "StkCallback", "parse_callback"]

_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True, slots=True)
class StkCallback:
    """The result of one STK push, as Daraja reported it.

    Attributes:
        merchant_request_id: Daraja's ``MerchantRequestID``.
        checkout_request_id: the ``CheckoutRequestID`` the push returned; the key to match.
        result_code: ``ResultCode`` (0 = paid).
        result_desc: Daraja's words.
        amount_minor: ``Amount`` in minor units (1.00 KES -> 100); only on success.
        receipt: ``MpesaReceiptNumber``; only on success.
        phone_e164: the payer's ``PhoneNumber`` as E.164, if present and readable.
        transaction_date: ``TransactionDate`` (Nairobi time) as aware UTC.
    """

    merchant_request_id: str
    checkout_request_id: str
    result_code: int
    result_desc: str
    amount_minor: int | None = None
    receipt: str | None = None
    phone_e164: str | None = None
    transaction_date: datetime | None = None

    @property
    def paid(self) -> bool:
        return self.result_code == SUCCESS

    @property
    def result(self) -> ResultInfo:
        """Outcome and reason key for :attr:`result_code`."""
        return describe(self.result_code)

    @property
    def outcome(self) -> Outcome:
        return self.result.outcome


def parse_callback(body: bytes | str | Mapping[str, Any]) -> StkCallback:
    """Read an STK callback from the raw request body or its decoded JSON.

    Metadata items are read by ``Name``, never by position; numbers may be ints, floats or
    strings; items we do not use (``Balance``, often without ``Value``) are ignored.

    Raises:
        MalformedCallback: for anything unreadable, with a ``reason``. Nothing else.
    """
    data = _decode(body)
    envelope = _mapping(data.get("Body"), "missing Body")
    callback = _mapping(envelope.get("stkCallback"), "missing Body.stkCallback")

    checkout_id = callback.get("CheckoutRequestID")
    if not isinstance(checkout_id, str) or not checkout_id.strip():
        raise MalformedCallback("missing CheckoutRequestID")
    merchant_id = callback.get("MerchantRequestID", "")
    if not isinstance(merchant_id, str):
        raise MalformedCallback("MerchantRequestID is not a string")
    result_code = _result_code(callback.get("ResultCode"))
    if result_code in PENDING_CODES:
        raise MalformedCallback(f"ResultCode {result_code} is not a final result")
    result_desc = callback.get("ResultDesc", "")
    if not isinstance(result_desc, str):
        raise MalformedCallback("ResultDesc is not a string")

    items = _items(callback.get("CallbackMetadata"))
    amount = _optional(items, "Amount", fields.amount_to_minor)
    receipt = _optional(items, "MpesaReceiptNumber", _receipt)
    date = _optional(items, "TransactionDate", _transaction_date)
    # An unreadable (masked, hashed) phone number is unknown, not an error.
    phone = fields.e164_from_msisdn(items["PhoneNumber"]) if "PhoneNumber" in items else None

    if result_code == SUCCESS and (amount is None or receipt is None):
        raise MalformedCallback("success without Amount or MpesaReceiptNumber")
    return StkCallback(
        merchant_request_id=merchant_id.strip(),
        checkout_request_id=checkout_id.strip(),
        result_code=result_code,
        result_desc=result_desc,
        amount_minor=amount,
        receipt=receipt,
        phone_e164=phone,
        transaction_date=date,
    )


def _decode(body: object) -> Mapping[str, Any]:
    if isinstance(body, bytes | bytearray | str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise MalformedCallback("body is not JSON") from exc
    return _mapping(body, "body is not a JSON object")


def _mapping(value: object, reason: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedCallback(reason)
    return value


def _result_code(value: object) -> int:
    if value is None:
        raise MalformedCallback("missing ResultCode")
    code = fields.integer(value)
    if code is None:
        raise MalformedCallback("ResultCode is not a number")
    return code


def _items(metadata: object) -> dict[str, object]:
    """``CallbackMetadata.Item`` as ``{Name: Value}``; an item without ``Value`` maps to None."""
    if metadata is None:
        return {}
    item_list = _mapping(metadata, "CallbackMetadata is not an object").get("Item")
    if isinstance(item_list, Mapping):  # a lone item, as XML-to-JSON bridges produce
        item_list = [item_list]
    if not isinstance(item_list, list):
        raise MalformedCallback("CallbackMetadata.Item is not a list")
    items: dict[str, object] = {}
    for item in item_list:
        name = _mapping(item, "CallbackMetadata item is not an object").get("Name")
        if not isinstance(name, str):
            raise MalformedCallback("CallbackMetadata item without a Name")
        if name in items:
            raise MalformedCallback(f"CallbackMetadata item {name} appears twice")
        items[name] = item.get("Value")
    return items


def _optional(items: Mapping[str, object], name: str, read: Callable[[object], _T]) -> _T | None:
    """Read item ``name`` if it has a value; a value we cannot read is malformed."""
    value = items.get(name)
    if value is None:
        return None
    try:
        return read(value)
    except ValueError as exc:
        raise MalformedCallback(f"{name} is unreadable") from exc


def _receipt(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isalnum() and len(text) <= 20):
        raise ValueError("not a receipt number")
    return text


def _transaction_date(value: object) -> datetime:
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int | str):
        raise ValueError("not a date")
    return fields.parse_timestamp(str(value).strip())
