"""Helpers for the M-Pesa tests over HTTP: a fake gateway and a recording notifier wired in, callbacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core.tables import Payment
from core.uow import UnitOfWork
from flows.i18n import t
from tests.core.payments_support import FakeGateway

DATA = Path(__file__).parents[1] / "channels" / "data" / "mpesa"


class RecordingNotifier:
    """core.ports.Notifier that keeps notices in memory."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str, dict[str, object]]] = []

    def notify(self, org_id: int, member_id: int, text_key: str, /, **values: object) -> None:
        self.sent.append((org_id, member_id, text_key, dict(values)))

    def texts(self, lang: str = "en") -> list[str]:
        return [t(lang, key, **values) for _, _, key, values in self.sent]


@pytest.fixture
def gateway(container: Container) -> FakeGateway:
    fake = FakeGateway()
    container.services["payment_gateway"] = fake
    return fake


@pytest.fixture
def notices(container: Container) -> RecordingNotifier:
    recorder = RecordingNotifier()
    container.services["notifier"] = recorder
    return recorder


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


def latest_payment(container: Container) -> Payment:
    with UnitOfWork(container.db) as uow:
        return uow.session.exec(select(Payment).order_by(col(Payment.id).desc())).first()  # type: ignore[return-value]


def payment_by_id(container: Container, payment_id: int) -> Payment:
    with UnitOfWork(container.db) as uow:
        found = uow.session.get(Payment, payment_id)
        assert found is not None
        return found


def callback_body(
    payment: Payment,
    code: int | str = 0,
    *,
    amount: float | int | None = None,
    phone: str | None = None,
    receipt: str | None = None,
    desc: str = "",
) -> dict[str, Any]:
    """The callback Daraja would post for ``payment`` (success when ``code`` is 0)."""
    callback: dict[str, Any] = {
        "MerchantRequestID": payment.merchant_request_id or "29115-34620561-1",
        "CheckoutRequestID": payment.checkout_request_id or "ws_CO_UNKNOWN",
        "ResultCode": code,
        "ResultDesc": desc or ("The service request is processed successfully." if code == 0 else "Failed"),
    }
    if code == 0:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": amount if amount is not None else payment.amount / 100},
                {"Name": "MpesaReceiptNumber", "Value": receipt or f"SBX{payment.id:07d}"},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20261122123015},
                {"Name": "PhoneNumber", "Value": int((phone or payment.phone).lstrip("+"))},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def post_callback(client: TestClient, token: str, body: object) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(
        f"/payments/mpesa/callback/{token}", content=content, headers={"content-type": "application/json"}
    )
    return response
