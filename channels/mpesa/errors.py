"""Errors of the Daraja client and of STK callback parsing.

* ProviderError (channels.errors)
  - DarajaError: Daraja said no, or could not be reached. ``sent`` says whether the
    request may have reached Daraja; ``request_id`` is Daraja's ``requestId`` if any.
    - PushOutcomeUnknown: an STK push was sent but its answer was lost (read timeout,
      dropped connection, gateway 5xx, unreadable 200). The customer may have been
      prompted: record the payment as UNKNOWN, settle it from the callback or a query,
      and never push again blindly. Not transient on purpose, so jobs do not retry it.
  - AuthError (channels.errors)
    - DarajaAuthError: the consumer key/secret were rejected.
      - InvalidAccessToken: a bearer token was refused (401 / ``404.001.03``); the
        client refreshes the token and retries once before letting this out.
* MalformedCallback (ValueError): an STK callback we cannot read; answer 200 and log it.
"""

from __future__ import annotations

from channels.errors import AuthError, ProviderError

PROVIDER = "mpesa"


class DarajaError(ProviderError):
    """A Daraja call failed. Jobs retry only when ``transient``."""

    def __init__(
        self,
        code: str | int,
        message: str,
        *,
        transient: bool = False,
        sent: bool = True,
        retry_after: float | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            PROVIDER,
            code,
            message,
            transient=transient,
            retry_after=retry_after,
            status_code=status_code,
        )
        self.sent = sent
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(code={self.code!r}, message={self.message!r}, "
            f"transient={self.transient}, sent={self.sent}, status_code={self.status_code}, "
            f"request_id={self.request_id!r})"
        )


class PushOutcomeUnknown(DarajaError):
    """The push went out but we do not know whether Daraja accepted it."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__("outcome_unknown", message, transient=False, sent=True, status_code=status_code)


class DarajaAuthError(DarajaError, AuthError):
    """Daraja refused our credentials or our token."""


class InvalidAccessToken(DarajaAuthError):
    """Daraja refused a bearer token (expired early, revoked, or from another app)."""


class MalformedCallback(ValueError):
    """An STK callback body we cannot read. ``reason`` says what was wrong (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"malformed M-Pesa callback: {reason}")
        self.reason = reason

    def __repr__(self) -> str:
        return f"MalformedCallback(reason={self.reason!r})"
