"""Africa's Talking SMS: inbound and delivery-report parsing, and the sender.

Why httpx and not the ``africastalking`` SDK (v2.0.3 read): the SDK cannot be pointed at our
local sandbox cleanly; its base URL lives in a private ``_baseUrl`` that ``_init_service``
rebuilds, and its documented entry point, ``africastalking.initialize()``, keeps one service per
process in module globals, which does not fit per-organisation credentials. Worse for the jobs,
a non-2xx answer becomes ``AfricasTalkingException(res.text)`` without the HTTP status, so a 401
(fix the credentials) cannot be told from a 503 (retry); a JSON answer whose content type is not
exactly ``application/json`` comes back as a string; and it goes through ``requests``, not our
injected httpx client with ``MockTransport`` tests. The request it would send is small and
documented (``POST {base}/version1/messaging``, form fields ``username``, ``to``, ``message``,
``from``, ``bulkSMSMode``; headers ``apiKey`` and ``Accept: application/json``), so we send
that ourselves, behind the same :class:`~channels.sms.base.SmsSender` interface.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from channels.base import DeliveryStatus
from channels.errors import AuthError, ProviderError, RecipientOptedOut
from channels.sms.base import SendResult, sender_phone
from core.errors import Invalid
from core.phones import normalise
from flows.messages import ChannelName, Inbound

_logger = logging.getLogger(__name__)

PROVIDER = "africastalking"
DEFAULT_BASE_URL = "https://api.africastalking.com"
SANDBOX_BASE_URL = "https://api.sandbox.africastalking.com"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

_DELIVERY_STATUSES = {
    "Success": "delivered",
    "Sent": "sent",
    "Submitted": "sent",
    "Buffered": "sent",  # with the network, the phone is off or out of reach for now
    "Rejected": "failed",
    "Failed": "failed",
    "AbsentSubscriber": "failed",
    "Expired": "failed",
}
"""Delivery-report ``status`` values (AT SMS notifications docs; courier maps them the same way)."""

_ACCEPTED = {100: "queued", 101: "sent", 102: "queued"}
"""Per-recipient ``statusCode`` of an accepted message: Processed, Sent, Queued."""
_TRANSIENT = frozenset({500, 501, 502})
"""InternalServerError, GatewayError, RejectedByGateway. 401 RiskHold, 402 InvalidSenderId,
403 InvalidPhoneNumber, 404 UnsupportedNumberType, 405 InsufficientBalance, 407 CouldNotRoute and
409 DoNotDisturbRejection will not change on a retry."""
_OPTED_OUT = 406
"""UserInBlacklist: the recipient blocked our sender id (sent STOP)."""


def parse_inbound(form: Mapping[str, str]) -> Inbound | None:
    """An inbound SMS callback (fields ``from``, ``to``, ``text``, ``date``, ``id``, ``linkId``).

    Returns:
        The Inbound (binding = the short code or number it was sent to), or None (logged) when
        the sender is not a phone number or the message has no id.
    """
    message_id = form.get("id", "")
    phone = sender_phone(form.get("from"), PROVIDER)
    if phone is None or not message_id:
        if phone is not None:
            _logger.warning("africastalking sms: inbound without an id skipped")
        return None
    return Inbound(
        channel=ChannelName.SMS,
        provider=PROVIDER,
        binding=form.get("to", "").strip(),
        phone_e164=phone,
        text=form.get("text", ""),
        session_key=phone,
        provider_message_id=message_id,
        received_at=parse_date(form.get("date")),
        reply_token=form.get("linkId") or None,
    )


def parse_delivery_report(form: Mapping[str, str]) -> DeliveryStatus | None:
    """A delivery report (``id``, ``status``, ``phoneNumber``, ``failureReason``...), or None if unknown."""
    message_id = form.get("id", "")
    status = _DELIVERY_STATUSES.get(form.get("status", ""))
    if not message_id or status is None:
        _logger.warning("africastalking sms: delivery report status %r skipped", form.get("status"))
        return None
    reason = form.get("failureReason") or None
    return DeliveryStatus(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=status,
        error_code=reason,
        error_message=reason,
        recipient=_phone_or_none(form.get("phoneNumber")),
    )


def parse_date(raw: str | None) -> datetime | None:
    """AT's ``date``: ISO ("2017-05-24T16:45:15.236Z") or "2017-05-24 16:45:15" (UTC); None if neither."""
    try:
        parsed = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class AfricasTalkingSender:
    """Sends SMS through ``POST {base_url}/version1/messaging`` (see the module docstring)."""

    def __init__(
        self,
        http: httpx.Client,
        username: str,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = http
        self._username = username
        self._api_key = api_key
        self._url = base_url.rstrip("/") + "/version1/messaging"
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"AfricasTalkingSender(username={self._username!r}, url={self._url!r})"

    def send(self, to: str, body: str, sender_id: str | None = None) -> SendResult:
        """Send one SMS; success is judged per recipient, not by the HTTP status alone.

        Raises:
            ProviderError: transient for network errors, HTTP 429/5xx and recipient codes
                500-502; ``AuthError`` for HTTP 401; ``RecipientOptedOut`` for 406.
        """
        form = {"username": self._username, "to": to, "message": body, "bulkSMSMode": "1"}
        if sender_id:
            form["from"] = sender_id
        headers = {"apiKey": self._api_key, "Accept": "application/json"}
        try:
            response = self._http.post(self._url, data=form, headers=headers, timeout=self._timeout)
        except httpx.TransportError as exc:
            _logger.warning("africastalking send failed: %s", type(exc).__name__)
            raise ProviderError(PROVIDER, "network", str(exc) or type(exc).__name__, transient=True) from exc
        status = response.status_code
        if status == 401:
            raise AuthError(PROVIDER, status, response.text.strip() or "unauthorised", status_code=status)
        if status >= 300:
            transient = status == 429 or status >= 500
            _logger.warning("africastalking send: HTTP %s", status)
            raise ProviderError(PROVIDER, status, response.text.strip()[:200], transient=transient, status_code=status)
        return _result(_json_object(response))


def _result(data: dict[str, Any]) -> SendResult:
    sms_data = data.get("SMSMessageData")
    sms_data = sms_data if isinstance(sms_data, dict) else {}
    recipients = [r for r in sms_data.get("Recipients") or [] if isinstance(r, dict)]
    if not recipients:
        # No recipient at all: the summary says why ("InvalidSenderId", "Invalid Phone Number"...).
        raise ProviderError(PROVIDER, "no_recipients", str(sms_data.get("Message") or "no recipients"))
    recipient = recipients[0]
    raw_code = recipient.get("statusCode")
    code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else -1
    message = str(recipient.get("status") or "unknown status")
    if code in _ACCEPTED and recipient.get("messageId"):
        cost = recipient.get("cost")
        return SendResult(str(recipient["messageId"]), _ACCEPTED[code], str(cost) if cost else None)
    _logger.warning("africastalking send: recipient status %s %s", code, message)
    if code == _OPTED_OUT:
        raise RecipientOptedOut(PROVIDER, code, message)
    raise ProviderError(PROVIDER, code, message, transient=code in _TRANSIENT)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _phone_or_none(raw: str | None) -> str | None:
    try:
        return normalise(raw) if raw else None
    except Invalid:
        return None
