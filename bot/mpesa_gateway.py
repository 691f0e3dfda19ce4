"""The payment gateway port (core.ports.PaymentGateway) over the Daraja client, and callback mapping.

This is the one place that turns Daraja's vocabulary (errors, ResultCodes, callbacks) into the
domain's: PushRefused / PushOutcomeUnknown / GatewayUnavailable and a settlement Report.
"""

from __future__ import annotations

import logging
import threading

import httpx

from bot.settings import Settings
from channels.mpesa import (
    DarajaClient,
    DarajaCredentials,
    DarajaError,
    Outcome,
    StkCallback,
)
from channels.mpesa import PushOutcomeUnknown as DarajaPushUnknown
from core.clock import Clock
from core.ports import GatewayUnavailable, PushAccepted, PushOutcomeUnknown, PushRefused, QueryAnswer
from core.settlement import Report
from core.tables import PaymentState

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/payments/mpesa/callback/"

OUTCOMES = {
    Outcome.PAID: PaymentState.PAID,
    Outcome.CANCELLED: PaymentState.CANCELLED,
    Outcome.TIMEOUT: PaymentState.TIMEOUT,
    Outcome.FAILED: PaymentState.FAILED,
}


def callback_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}{CALLBACK_PATH}{token}"


def credentials(settings: Settings) -> DarajaCredentials:
    return DarajaCredentials(
        base_url=settings.mpesa_base_url,
        consumer_key=settings.mpesa_consumer_key.get_secret_value(),
        consumer_secret=settings.mpesa_consumer_secret.get_secret_value(),
        shortcode=settings.mpesa_shortcode,
        passkey=settings.mpesa_passkey.get_secret_value(),
        transaction_type=settings.mpesa_transaction_type,  # type: ignore[arg-type]
    )


class DarajaGateway:
    """Pushes and queries through Daraja; builds its HTTP client on first use, closed with the container."""

    def __init__(self, settings: Settings, clock: Clock, *, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._http = http
        self._owns_http = http is None
        self._client: DarajaClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DarajaGateway(base_url={self._settings.mpesa_base_url!r})"

    @property
    def client(self) -> DarajaClient:
        with self._lock:
            if self._client is None:
                if self._http is None:
                    self._http = httpx.Client()
                self._client = DarajaClient(credentials(self._settings), self._http, self._clock)
            return self._client

    def stk_push(
        self, *, phone: str, amount: int, account_reference: str, description: str, callback_token: str
    ) -> PushAccepted:
        url = callback_url(self._settings, callback_token)
        try:
            accepted = self.client.stk_push(phone, amount, account_reference, description, url)
        except DarajaPushUnknown as exc:
            raise PushOutcomeUnknown(exc.message, code=exc.code) from exc
        except DarajaError as exc:
            if not exc.sent and exc.transient:
                raise GatewayUnavailable(exc.message, code=exc.code) from exc
            # Daraja answered with an error document: it refused, so nobody was prompted.
            raise PushRefused(exc.message, code=exc.code) from exc
        except (TypeError, ValueError) as exc:
            raise PushRefused(str(exc), code="invalid_request") from exc
        return PushAccepted(accepted.merchant_request_id, accepted.checkout_request_id)

    def stk_query(self, checkout_request_id: str) -> QueryAnswer:
        try:
            result = self.client.stk_query(checkout_request_id)
        except (DarajaError, ValueError) as exc:
            raise GatewayUnavailable(str(getattr(exc, "message", exc)), code=str(getattr(exc, "code", ""))) from exc
        outcome = result.outcome
        return QueryAnswer(OUTCOMES[outcome] if outcome is not None else None, result.result_code, result.result_desc)

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None
            self._client = None


def report_from_callback(callback: StkCallback) -> Report:
    """What a parsed Daraja callback tells the settlement (decided by ResultCode, never ResultDesc)."""
    return Report(
        source="callback",
        outcome=OUTCOMES[callback.outcome],
        result_code=callback.result_code,
        result_desc=callback.result_desc,
        receipt=callback.receipt,
        amount=callback.amount_minor,
        phone=callback.phone_e164,
        checkout_request_id=callback.checkout_request_id,
        merchant_request_id=callback.merchant_request_id or None,
    )
