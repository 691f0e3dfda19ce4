"""Daraja (M-Pesa Express) client: OAuth token, STK push and STK query.

Synchronous on purpose: RQ jobs and the conversation engine are synchronous, and an STK
push is never awaited inside a USSD hop. The caller owns the injected ``httpx.Client``;
every call passes an explicit ``httpx.Timeout``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from channels.mpesa import fields
from channels.mpesa.config import DarajaCredentials
from channels.mpesa.errors import (
    DarajaAuthError,
    DarajaError,
    InvalidAccessToken,
    PushOutcomeUnknown,
)
from channels.mpesa.responses import StkPushAccepted, StkQueryResult
from channels.mpesa.results import PENDING_CODES
from core.clock import Clock, SystemClock
from core.phones import mask

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
"""Connect fast, but give the push time to answer: a read timeout on a push leaves the
payment UNKNOWN, which costs far more than waiting."""

TOKEN_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"

INVALID_TOKEN_CODE = "404.001.03"
"""``errorCode`` of "Invalid Access Token"."""

STILL_PROCESSING_CODE = "500.001.1001"
"""``errorCode`` the STK query answers while a prompt is unanswered ("The transaction is
being processed", sometimes with an empty message, sometimes with HTTP 200). It is not an
answer about the payment, so it reads as "pending"."""

_CONFIG_MESSAGES = ("wrong credentials", "merchant does not exist")
"""Daraja also answers ``500.001.1001`` for a bad Password or an unknown shortcode: our
configuration is wrong, so neither "pending" nor worth retrying."""

TOKEN_REFRESH_MARGIN = timedelta(seconds=60)
"""Refresh the token this long before Daraja says it expires."""

DEFAULT_TOKEN_TTL = 3599
"""Daraja's usual ``expires_in``; used if the answer carries no readable value."""

# Raised before a single byte of the request left us: always safe to try again.
_NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    value: str = dataclasses.field(repr=False)
    refresh_at: datetime


class DarajaClient:
    """Talks to Daraja for one shortcode; safe to share between threads."""

    def __init__(
        self,
        credentials: DarajaCredentials,
        http: httpx.Client,
        clock: Clock | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        """Build a client.

        Args:
            credentials: the shortcode's Daraja credentials.
            http: a client the caller owns (and closes); tests pass one with a MockTransport.
            clock: source of "now" for timestamps and token expiry; the system clock if omitted.
            timeout: applied to every request, whatever ``http`` was built with.
        """
        self._credentials = credentials
        self._http = http
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._timeout = timeout
        self._token: _Token | None = None
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DarajaClient({self._credentials!r})"

    # -- public API -------------------------------------------------------------------

    def stk_push(
        self,
        phone_e164: str,
        amount_minor: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushAccepted:
        """Ask Daraja to prompt ``phone_e164`` for ``amount_minor`` (a multiple of 100).

        Args:
            phone_e164: the payer, ``+2547…`` or ``+2541…``.
            amount_minor: cents; STK pushes take whole shillings only.
            account_reference: 1 to 12 characters, shown on the payer's M-Pesa SMS.
            description: free text, cut to 13 characters.
            callback_url: where Daraja posts the result (per-payment, unguessable).

        Returns:
            The acceptance, with the ``CheckoutRequestID`` to store. Not a payment.

        Raises:
            TypeError, ValueError: bad arguments; nothing was sent.
            PushOutcomeUnknown: sent, but the answer was lost: record UNKNOWN, do not re-push.
            DarajaAuthError: credentials rejected.
            DarajaError: Daraja refused the push (``transient`` says whether to retry).
        """
        party_a = fields.msisdn(phone_e164)
        amount = fields.whole_shillings(amount_minor)
        reference = fields.account_reference(account_reference)
        desc = fields.transaction_desc(description)
        _check_url(callback_url)
        creds = self._credentials
        stamp = fields.timestamp(self._clock.now())
        # Strings throughout, as in Daraja's documented sample request.
        payload = {
            "BusinessShortCode": creds.shortcode,
            "Password": fields.stk_password(creds.shortcode, creds.passkey, stamp),
            "Timestamp": stamp,
            "TransactionType": creds.transaction_type.value,
            "Amount": str(amount),
            "PartyA": party_a,
            "PartyB": creds.party_b,
            "PhoneNumber": party_a,
            "CallBackURL": callback_url,
            "AccountReference": reference,
            "TransactionDesc": desc,
        }
        body = self._call(STK_PUSH_PATH, payload, push=True)
        checkout_id = body.get("CheckoutRequestID")
        if not isinstance(checkout_id, str) or not checkout_id:
            # Accepted, yet nothing to track it by: only the callback can settle it now.
            raise PushOutcomeUnknown("push accepted without a CheckoutRequestID")
        accepted = StkPushAccepted(
            merchant_request_id=_text(body.get("MerchantRequestID")),
            checkout_request_id=checkout_id,
            response_code=_text(body.get("ResponseCode")),
            response_description=_text(body.get("ResponseDescription")),
            customer_message=_text(body.get("CustomerMessage")),
        )
        _logger.info(
            "stk push accepted: phone=%s amount=%s ref=%s checkout=%s",
            mask("+" + party_a),
            amount,
            reference,
            checkout_id,
        )
        return accepted

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        """Ask Daraja how the push ``checkout_request_id`` ended (safe to repeat).

        Returns:
            The result; ``pending`` while the customer has not answered (``ResultCode``
            4999, or the ``500.001.1001`` "being processed" error).

        Raises:
            ValueError: empty ``checkout_request_id``.
            DarajaAuthError: credentials rejected.
            DarajaError: Daraja refused the query or could not be reached.
        """
        if not isinstance(checkout_request_id, str) or not checkout_request_id.strip():
            raise ValueError("checkout_request_id is empty")
        creds = self._credentials
        stamp = fields.timestamp(self._clock.now())
        payload = {
            "BusinessShortCode": creds.shortcode,
            "Password": fields.stk_password(creds.shortcode, creds.passkey, stamp),
            "Timestamp": stamp,
            "CheckoutRequestID": checkout_request_id.strip(),
        }
        try:
            body = self._call(STK_QUERY_PATH, payload, push=False)
        except DarajaError as exc:
            # Not transient means the configuration-error variant of the same code.
            if exc.code != STILL_PROCESSING_CODE or not exc.transient:
                raise
            _logger.info("stk query %s: still being processed", checkout_request_id)
            return StkQueryResult(None, exc.message, pending=True)
        result_desc = _text(body.get("ResultDesc"))
        raw_code = body.get("ResultCode")
        if raw_code is None or raw_code == "":
            return StkQueryResult(None, result_desc, pending=True)
        result_code = fields.integer(raw_code)
        if result_code is None:
            raise DarajaError("bad_response", "unreadable ResultCode in STK query answer", transient=True)
        pending = result_code in PENDING_CODES
        _logger.info("stk query %s: result %s pending=%s", checkout_request_id, result_code, pending)
        return StkQueryResult(result_code, result_desc, pending=pending)

    # -- token ------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._token_lock:
            now = self._clock.now()
            if self._token is None or now >= self._token.refresh_at:
                self._token = self._fetch_token(now)
            return self._token.value

    def _forget_token(self, value: str) -> None:
        with self._token_lock:
            # Another thread may already have replaced it; keep a newer token.
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch_token(self, now: datetime) -> _Token:
        creds = self._credentials
        body = self._request(
            "GET",
            TOKEN_PATH,
            params={"grant_type": "client_credentials"},
            basic=httpx.BasicAuth(creds.consumer_key, creds.consumer_secret),
        )
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise DarajaError("bad_response", "token answer has no access_token", transient=True)
        ttl = fields.integer(body.get("expires_in"))  # a string, e.g. "3599"
        if ttl is None or ttl <= 0:
            _logger.warning("daraja token answer has no usable expires_in; assuming %ss", DEFAULT_TOKEN_TTL)
            ttl = DEFAULT_TOKEN_TTL
        # Short-lived tokens would otherwise be stale on arrival.
        margin = min(TOKEN_REFRESH_MARGIN, timedelta(seconds=ttl / 2))
        _logger.info("daraja token fetched, valid for %ss", ttl)
        return _Token(value, now + timedelta(seconds=ttl) - margin)

    # -- HTTP -------------------------------------------------------------------------

    def _call(self, path: str, payload: dict[str, str], *, push: bool) -> dict[str, Any]:
        """POST with the cached token; on a refused token, refresh and retry once.

        Retrying a push here is safe: a refused token means Daraja rejected the request at
        the gate, before any prompt was sent.
        """
        token = self._access_token()
        try:
            return self._request("POST", path, json=payload, bearer=token, push=push)
        except InvalidAccessToken:
            _logger.info("daraja refused the access token; refreshing and retrying once")
            self._forget_token(token)
            token = self._access_token()
            return self._request("POST", path, json=payload, bearer=token, push=push)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        bearer: str | None = None,
        basic: httpx.BasicAuth | None = None,
        push: bool = False,
    ) -> dict[str, Any]:
        """Send one request and return its JSON object; the only place Daraja errors are mapped.

        Args:
            push: the request prompts a customer, so an answer lost after sending is
                :class:`PushOutcomeUnknown` rather than a retryable error.

        Raises:
            DarajaError: and its subclasses, as described in :mod:`channels.mpesa.errors`.
        """
        headers = {"Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        started = time.monotonic()
        try:
            response = self._http.request(
                method,
                self._credentials.base_url + path,
                params=params,
                json=json,
                headers=headers,
                auth=basic if basic is not None else httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
            )
        except httpx.UnsupportedProtocol as exc:
            raise DarajaError("bad_url", "Daraja base_url is not usable", sent=False) from exc
        except _NOT_SENT as exc:
            _logger.warning("daraja %s %s not sent: %s", method, path, type(exc).__name__)
            raise DarajaError(
                "network", f"could not reach Daraja ({type(exc).__name__})", transient=True, sent=False
            ) from exc
        except httpx.TransportError as exc:
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
            _logger.warning("daraja %s %s sent, answer lost: %s", method, path, type(exc).__name__)
            if push:
                raise PushOutcomeUnknown(f"push sent but answer lost ({type(exc).__name__})") from exc
            raise DarajaError(kind, f"answer lost ({type(exc).__name__})", transient=True) from exc

        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        body = _json_object(response)
        _logger.debug("daraja %s %s -> %s in %.0f ms", method, path, status, elapsed_ms)

        error_code = body.get("errorCode") if body is not None else None
        if body is not None and error_code is None and response.is_success:
            response_code = body.get("ResponseCode")
            if response_code is None or str(response_code) == "0":
                return body
            # A 200 that says no (ResponseCode other than "0").
            raise self._mapped(
                DarajaError(
                    str(response_code),
                    _text(body.get("ResponseDescription")) or "request not accepted",
                    status_code=status,
                ),
                method,
                path,
            )

        if error_code is None:
            # No Daraja error document: an empty or HTML answer from a gateway, or an
            # unreadable 2xx. For a push that means the prompt may or may not have gone.
            if push and (status >= 500 or response.is_success):
                raise self._mapped(
                    PushOutcomeUnknown(f"push sent, unreadable answer (HTTP {status})", status_code=status),
                    method,
                    path,
                )
            if response.is_success:
                raise self._mapped(
                    DarajaError("bad_response", "unreadable answer", transient=True, status_code=status),
                    method,
                    path,
                )
            code = f"http_{status}"
            message = response.reason_phrase or "unreadable answer"
            request_id = None
        else:
            code = str(error_code)
            message = _text(body.get("errorMessage") if body is not None else None)
            request_id = _text(body.get("requestId") if body is not None else None) or None

        transient = False
        retry_after: float | None = None
        error_class: type[DarajaError] = DarajaError
        if bearer is not None and (status == 401 or code == INVALID_TOKEN_CODE):
            error_class, message = InvalidAccessToken, message or "Invalid Access Token"
        elif basic is not None and 400 <= status < 500 and status not in (408, 429):
            error_class, message = DarajaAuthError, message or "credentials rejected"
        elif status == 429:
            transient, retry_after = True, _retry_after(response)
        else:
            # Daraja's errorCode starts with an HTTP status ("500.001.1001"), which is
            # also what it means when it arrives inside a 200.
            effective = _status_of(code) or status
            transient = effective >= 500 or effective == 408
            if code == STILL_PROCESSING_CODE and any(m in message.lower() for m in _CONFIG_MESSAGES):
                transient = False
        error = error_class(
            code,
            message,
            transient=transient,
            retry_after=retry_after,
            status_code=status,
            request_id=request_id,
        )
        raise self._mapped(error, method, path)

    @staticmethod
    def _mapped(error: DarajaError, method: str, path: str) -> DarajaError:
        _logger.warning(
            "daraja %s %s failed: status=%s code=%s request_id=%s transient=%s message=%s",
            method,
            path,
            error.status_code,
            error.code,
            error.request_id,
            error.transient,
            error.message,
        )
        return error


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return None
    return body if isinstance(body, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _status_of(code: str) -> int | None:
    head = code.split(".", 1)[0]
    return int(head) if head.isdigit() and len(head) == 3 else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError("callback_url is not a URL") from exc
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise ValueError("callback_url must be an absolute http(s) URL")
