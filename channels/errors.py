"""Errors from providers, with whether trying again may help.

* ProviderError(provider, code, message, transient, retry_after)
  - AuthError: credentials rejected (not transient, but a token refresh may fix it)
  - WindowClosed: WhatsApp 131047, outside the 24-hour customer-service window
  - RecipientOptedOut: Twilio 21610, the recipient sent STOP
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider said no, or could not be reached. Jobs retry only when ``transient``."""

    def __init__(
        self,
        provider: str,
        code: str | int,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"{provider} error {code}: {message}")
        self.provider = provider
        self.code = str(code)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.status_code = status_code

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(provider={self.provider!r}, code={self.code!r}, "
            f"message={self.message!r}, transient={self.transient})"
        )


class AuthError(ProviderError):
    pass


class WindowClosed(ProviderError):
    pass


class RecipientOptedOut(ProviderError):
    pass
