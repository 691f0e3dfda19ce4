"""The WhatsApp Cloud (Graph) API over HTTP: one ``_request`` sends, logs and maps errors.

Error codes (Meta's Cloud API "Error codes" page) and what a job should do with them:

* 0, 190, HTTP 401 -> :class:`AuthError` (token expired or revoked).
* 131047 -> :class:`WindowClosed`: more than 24 hours since the user last wrote; send a template.
* HTTP 429, HTTP 5xx, network errors, and the throttling codes 4, 80007, 130429 (throughput)
  and 131056 (too many messages to one user) -> transient, with ``Retry-After`` honoured.
  1, 2, 131000 and 131016 (unknown / service unavailable) are transient too.
* 131048 (spam rate limit) is a throttling code but NOT transient: it is a quality restriction
  on the number that lasts far beyond a job's retry back-off, so falling back to SMS is better.
* Everything else (131026 undeliverable, 131051 unsupported type, 100 invalid parameter,
  132xxx template problems...) -> :class:`ProviderError` with ``transient=False``.

A timeout after the request was written may still have sent the message; it is reported as
transient, so a retried job can, rarely, deliver twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from channels.errors import AuthError, ProviderError, WindowClosed

_logger = logging.getLogger(__name__)

PROVIDER = "whatsapp"
DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Applied to every request, whatever the injected client's own default."""

WINDOW_CLOSED_CODE = 131047
_AUTH_CODES = frozenset({0, 190})
_TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})


class GraphClient:
    """Sends messages through the Cloud API with one business phone number's token."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        version: str,
        token: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        """
        Args:
            http: a shared synchronous client (the jobs are synchronous).
            base_url: ``https://graph.facebook.com`` or the local sandbox.
            version: the Graph API version ("v21.0").
            token: the system-user access token.
            timeout: per-request timeout.
        """
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._version = version.strip("/")
        self._token = token
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self._base_url!r}, version={self._version!r})"

    def send(self, phone_number_id: str, body: dict[str, Any]) -> str:
        """Send one message body (see ``render``) from ``phone_number_id``.

        Returns:
            The message id (``wamid....``) that delivery statuses will refer to.

        Raises:
            ProviderError: and its subclasses, see the module docstring.
        """
        data = self._request("POST", f"{phone_number_id}/messages", body)
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            message_id = messages[0].get("id")
            if isinstance(message_id, str) and message_id:
                return message_id
        # The message may well have gone out: retrying could send it twice.
        raise ProviderError(PROVIDER, "bad_response", "no message id in the response", transient=False)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request; return its JSON object or raise the matching :class:`ProviderError`."""
        url = f"{self._base_url}/{self._version}/{path}"
        try:
            response = self._http.request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            _logger.warning("whatsapp %s %s timed out", method, path)
            raise ProviderError(PROVIDER, "timeout", str(exc) or "timed out", transient=True) from exc
        except httpx.TransportError as exc:
            _logger.warning("whatsapp %s %s failed: %s", method, path, type(exc).__name__)
            raise ProviderError(PROVIDER, "network", str(exc) or type(exc).__name__, transient=True) from exc
        data = _json_object(response)
        _logger.debug("whatsapp %s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400 or "error" in data:
            error = _error(response, data)
            _logger.warning("whatsapp %s %s failed: %r", method, path, error)
            raise error
        return data


def _error(response: httpx.Response, data: dict[str, Any]) -> ProviderError:
    raw = data.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    message = str(error.get("message") or response.reason_phrase or "error")
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    if details:
        message = f"{message} ({details})"
    status = response.status_code
    shown_code = code if code is not None else status
    if code in _AUTH_CODES or status == 401:
        return AuthError(PROVIDER, shown_code, message, status_code=status)
    if code == WINDOW_CLOSED_CODE:
        return WindowClosed(PROVIDER, shown_code, message, status_code=status)
    transient = status == 429 or status >= 500 or code in _TRANSIENT_CODES
    retry_after = retry_after_seconds(response.headers.get("Retry-After")) if transient else None
    return ProviderError(
        PROVIDER, shown_code, message, transient=transient, retry_after=retry_after, status_code=status
    )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
