"""Twilio SMS: webhook signature, inbound and status parsing, and the sender (the only module
that imports the ``twilio`` SDK).

Base URL: the SDK's ``Client.api`` is a ``Domain`` whose public ``base_url`` attribute
(``"https://api.twilio.com"``) every Messages request is built from, so the sender sets it once
for the local sandbox. Region and edge: ``ClientBase`` falls back to the ``TWILIO_REGION`` /
``TWILIO_EDGE`` environment variables when they are not passed, and an empty ``environment``
mapping falls back to ``os.environ`` too (``environment or os.environ``), so the sender clears
both attributes after construction; otherwise ``get_hostname`` would rewrite our URL to
``api.<edge>.<region>.twilio.com``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import DeliveryStatus
from channels.errors import AuthError, ProviderError, RecipientOptedOut
from channels.sms.base import SendResult, sender_phone
from core.errors import Invalid
from core.phones import normalise
from flows.messages import ChannelName, Inbound

_logger = logging.getLogger(__name__)

PROVIDER = "twilio"
DEFAULT_TIMEOUT = 10.0
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
"""The answer to an inbound SMS when the reply goes out later through the API."""

_STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
_OPTED_OUT = 21610
_AUTH_CODES = frozenset({20003})
_RATE_LIMIT_CODES = frozenset({20429})


def validate_signature(url: str, params: Mapping[str, str], signature: str | None, auth_token: str) -> bool:
    """Check ``X-Twilio-Signature`` over the public ``url`` and every POST parameter.

    ``params`` may be a multi-dict (Starlette's ``FormData``): repeated keys are all signed.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def parse_inbound(form: Mapping[str, str]) -> Inbound | None:
    """An inbound SMS webhook (``From``, ``To``, ``Body``, ``MessageSid``, ``NumMedia``...), or None.

    None (logged) when the sender is not a phone number or there is no message sid. A picture
    without text (MMS) becomes ``unsupported="media"``.
    """
    message_id = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
    phone = sender_phone(form.get("From"), PROVIDER)
    if phone is None or not message_id:
        if phone is not None:
            _logger.warning("twilio sms: inbound without a MessageSid skipped")
        return None
    body = form.get("Body", "")
    media = form.get("NumMedia", "0")
    return Inbound(
        channel=ChannelName.SMS,
        provider=PROVIDER,
        binding=form.get("To", "").strip(),
        phone_e164=phone,
        text=body,
        session_key=phone,
        provider_message_id=message_id,
        unsupported="media" if not body.strip() and media.isdigit() and int(media) > 0 else None,
    )


def parse_status(form: Mapping[str, str]) -> DeliveryStatus | None:
    """A status callback (``MessageSid``, ``MessageStatus``, ``ErrorCode``, ``To``), or None if unknown."""
    message_id = form.get("MessageSid") or form.get("SmsSid") or ""
    status = _STATUSES.get(form.get("MessageStatus") or form.get("SmsStatus") or "")
    if not message_id or status is None:
        _logger.debug("twilio sms: status %r skipped", form.get("MessageStatus"))
        return None
    return DeliveryStatus(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=status,
        error_code=form.get("ErrorCode") or None,
        error_message=form.get("ErrorMessage") or None,
        recipient=_phone_or_none(form.get("To")),
    )


class TwilioSender:
    """Sends SMS through the Twilio Messages API with explicit timeout, region and base URL."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        status_callback: str | None = None,
        http_client: HttpClient | None = None,
    ) -> None:
        """
        Args:
            account_sid: the account (``AC...``).
            auth_token: its auth token.
            base_url: replaces ``https://api.twilio.com`` (the local sandbox); None for Twilio.
            timeout: seconds for each request.
            status_callback: the public URL of our status route, sent with every message.
            http_client: a twilio ``HttpClient``; tests pass a fake, None builds
                ``TwilioHttpClient(timeout=timeout)``.
        """
        self._client = Client(
            account_sid,
            auth_token,
            account_sid=account_sid,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
        )
        self._client.region = None  # see the module docstring: no TWILIO_REGION / TWILIO_EDGE
        self._client.edge = None
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._status_callback = status_callback

    def __repr__(self) -> str:
        return f"TwilioSender(base_url={self._client.api.base_url!r})"

    def send(self, to: str, body: str, sender_id: str | None = None) -> SendResult:
        """Send one SMS from ``sender_id``: a number, or a Messaging Service sid (``MG...``).

        Raises:
            RecipientOptedOut: 21610, the recipient replied STOP.
            AuthError: HTTP 401 / 20003.
            ProviderError: transient for HTTP 429 / 20429, HTTP 5xx and network errors.
        """
        sender = sender_id or ""
        params: dict[str, str] = {"to": to, "body": body}
        if sender.startswith("MG"):
            params["messaging_service_sid"] = sender
        elif sender:
            params["from_"] = sender
        if self._status_callback:
            params["status_callback"] = self._status_callback
        try:
            message = self._client.api.account.messages.create(**params)
        except TwilioRestException as exc:
            error = _error(exc)
            _logger.warning("twilio send failed: %r", error)
            raise error from exc
        except TwilioException as exc:  # the SDK's own checks (missing credentials...)
            raise ProviderError(PROVIDER, "client", str(exc)) from exc
        except OSError as exc:  # requests' ConnectionError / Timeout are OSErrors
            _logger.warning("twilio send failed: %s", type(exc).__name__)
            raise ProviderError(PROVIDER, "network", str(exc) or type(exc).__name__, transient=True) from exc
        price = message.price
        return SendResult(
            message_id=str(message.sid),
            status=_STATUSES.get(str(message.status), "queued"),
            cost=f"{price} {message.price_unit}" if price else None,
        )


def _error(exc: TwilioRestException) -> ProviderError:
    status = int(exc.status)
    code = exc.code if isinstance(exc.code, int) else None
    shown = code if code is not None else status
    message = str(exc.msg or "error")
    if code == _OPTED_OUT:
        return RecipientOptedOut(PROVIDER, shown, message, status_code=status)
    if status == 401 or code in _AUTH_CODES:
        return AuthError(PROVIDER, shown, message, status_code=status)
    transient = status == 429 or status >= 500 or code in _RATE_LIMIT_CODES
    return ProviderError(PROVIDER, shown, message, transient=transient, status_code=status)


def _phone_or_none(raw: str | None) -> str | None:
    try:
        return normalise(raw) if raw else None
    except Invalid:
        return None
