"""Fake Safaricom Daraja: OAuth token, STK push (M-Pesa Express) and STK push query."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
import string
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.sandbox.numbers import STK_RESULTS, StkOutcome, stk_outcome
from bot.sandbox.runtime import Sandbox
from bot.sandbox.stk import EAT, Payer, StkPush

_BAD = "400.002.02"
_SERVER = "500.001.1001"
_PHONE = re.compile(r"^254[71]\d{8}$")
_SHORTCODE = re.compile(r"^\d{5,7}$")
_TRANSACTION_TYPES = frozenset({"CustomerPayBillOnline", "CustomerBuyGoodsOnline"})
_TOKEN_ALPHABET = string.ascii_letters + string.digits


class DarajaError(Exception):
    """A request Daraja refuses, answered as {"requestId", "errorCode", "errorMessage"}."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DarajaError(status_code={self.status_code!r}, code={self.code!r}, message={self.message!r})"

    def response(self) -> JSONResponse:
        """Render the error the way Daraja does."""
        request_id = f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(9000000) + 1000000}-1"
        body = {"requestId": request_id, "errorCode": self.code, "errorMessage": self.message}
        return JSONResponse(body, status_code=self.status_code)


def _invalid(field: str) -> DarajaError:
    return DarajaError(400, _BAD, f"Bad Request - Invalid {field}")


def _text(body: dict[str, Any], name: str) -> str:
    # Daraja takes these as JSON strings or numbers; doc revisions show both.
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(name)
    return str(value).strip()


def _matching(body: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = _text(body, name)
    if not pattern.fullmatch(value):
        raise _invalid(name)
    return value


def _timestamp(body: dict[str, Any]) -> str:
    value = _text(body, "Timestamp")
    try:
        if len(value) != 14:
            raise ValueError(value)
        datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        raise _invalid("Timestamp") from None
    return value


def _amount(body: dict[str, Any]) -> int:
    # Whole shillings only: a float (even 10.0) or "10.50" is refused, so adapter bugs surface here.
    value = body.get("Amount")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid("Amount")
    return value


def _bounded(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _invalid(name)
    return value


def _callback_url(body: dict[str, Any]) -> str:
    value = body.get("CallBackURL")
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid("CallBackURL")
    return str(value)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise DarajaError(400, _BAD, "Bad Request - Invalid JSON") from None
    if not isinstance(body, dict):
        raise DarajaError(400, _BAD, "Bad Request - Invalid JSON")
    return body


class Daraja:
    """The Daraja endpoints, bound to one sandbox and its fake payer."""

    def __init__(self, sandbox: Sandbox, payer: Payer) -> None:
        self.sandbox = sandbox
        self.payer = payer
        self._tokens: dict[str, float] = {}

    def routes(self) -> list[BaseRoute]:
        """Return the routes at Daraja's real paths."""
        return [
            Route("/oauth/v1/generate", self.generate_token, methods=["GET"]),
            Route("/mpesa/stkpush/v1/processrequest", self.process_request, methods=["POST"]),
            Route("/mpesa/stkpushquery/v1/query", self.query, methods=["POST"]),
        ]

    async def generate_token(self, request: Request) -> Response:
        """Issue an access token for Basic consumer key:secret credentials."""
        config = self.sandbox.config
        if request.query_params.get("grant_type") != "client_credentials":
            return DarajaError(400, "400.008.02", "Invalid grant type passed").response()
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key = secret = ""
        expected_key, expected_secret = config.daraja_consumer_key, config.daraja_consumer_secret
        if not (
            scheme.lower() == "basic"
            and hmac.compare_digest(key, expected_key)
            and hmac.compare_digest(secret, expected_secret)
        ):
            return DarajaError(400, "400.008.01", "Invalid Authentication passed").response()
        now = time.monotonic()
        self._tokens = {token: expiry for token, expiry in self._tokens.items() if expiry > now}
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(28))
        self._tokens[token] = now + config.daraja_token_ttl_seconds
        # expires_in is a string in Daraja's answer, not a number.
        return JSONResponse({"access_token": token, "expires_in": str(config.daraja_token_ttl_seconds)})

    async def process_request(self, request: Request) -> Response:
        """Accept an STK push, answer at once, and let the fake payer decide in the background."""
        try:
            self._authorize(request)
            push = self._parse_push(await _json_body(request))
        except DarajaError as exc:
            return exc.response()
        if push.outcome is StkOutcome.REJECTED:
            message = "Unable to lock subscriber, a transaction is already in process for the current subscriber"
            return DarajaError(500, _SERVER, message).response()
        self.payer.accept(push)
        if push.outcome is StkOutcome.CALLBACK_FIRST:
            # The race this number exists for: the callback lands before the caller has the push response.
            await self.payer.settle(push, STK_RESULTS[push.outcome])
        else:
            self.sandbox.spawn(self.payer.play(push), name=f"stk {push.checkout_request_id}")
        return JSONResponse(
            {
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            }
        )

    async def query(self, request: Request) -> Response:
        """Report a push's state: 500 "being processed" while pending, else its ResultCode as a string."""
        try:
            self._authorize(request)
            body = await _json_body(request)
            shortcode = _matching(body, "BusinessShortCode", _SHORTCODE)
            timestamp = _timestamp(body)
            self._check_password(shortcode, _text(body, "Password"), timestamp)
            checkout_id = _text(body, "CheckoutRequestID")
            push = self.payer.pushes.get(checkout_id)
            if push is None or push.shortcode != shortcode:
                raise _invalid("CheckoutRequestID")
            if push.result is None:
                raise DarajaError(500, _SERVER, "The transaction is being processed")
        except DarajaError as exc:
            return exc.response()
        return JSONResponse(
            {
                "ResponseCode": "0",
                # The doubled "s" is Daraja's own spelling.
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResultCode": str(push.result.code),
                "ResultDesc": push.result.desc,
            }
        )

    def _authorize(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= time.monotonic():
            raise DarajaError(401, "404.001.03", "Invalid Access Token")

    def _check_password(self, shortcode: str, password: str, timestamp: str) -> None:
        passkey = self.sandbox.config.passkey_for(shortcode)
        if passkey is None:
            raise DarajaError(500, _SERVER, "Merchant does not exist")
        expected = base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()
        # Daraja reports a bad Password as a 500, not a 400: callers must not retry it blindly.
        if not hmac.compare_digest(expected.encode(), password.encode()):
            raise DarajaError(500, _SERVER, "Wrong credentials")

    def _parse_push(self, body: dict[str, Any]) -> StkPush:
        shortcode = _matching(body, "BusinessShortCode", _SHORTCODE)
        password = _text(body, "Password")
        timestamp = _timestamp(body)
        if body.get("TransactionType") not in _TRANSACTION_TYPES:
            raise _invalid("TransactionType")
        amount = _amount(body)
        _matching(body, "PartyA", _PHONE)
        _matching(body, "PartyB", _SHORTCODE)
        phone = _matching(body, "PhoneNumber", _PHONE)
        callback_url = _callback_url(body)
        reference = _bounded(body, "AccountReference", 12)
        description = _bounded(body, "TransactionDesc", 182)
        self._check_password(shortcode, password, timestamp)
        outcome = stk_outcome(phone)
        merchant_id, checkout_id = self.payer.new_ids()
        return StkPush(
            merchant_request_id=merchant_id,
            checkout_request_id=checkout_id,
            shortcode=shortcode,
            phone=phone,
            amount=amount,
            account_reference=reference,
            description=description,
            callback_url=callback_url,
            outcome=outcome,
            # Test numbers keep their scripted outcome even in manual mode, so tests stay deterministic.
            manual=outcome is StkOutcome.SUCCESS and self.sandbox.config.is_manual(phone),
            created_at=datetime.now(EAT),
        )
