"""Payments through the API: list and filter, status query, review (credit / dismiss), CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core.tables import Payment, PaymentPurpose, PaymentState
from core.uow import UnitOfWork
from tests.admin_api.conftest import Caller, Receiver


def add_payment(container: Container, n: int, state: PaymentState, **extra: Any) -> int:
    with UnitOfWork(container.db) as uow:
        payment = Payment(
            org_id=1,
            member_id=1,
            purpose=PaymentPurpose.CONTRIBUTION,
            subject="2026-11",
            amount=10_000 * n,
            phone="+254700000001",
            account_reference="M00001",
            idempotency_key=f"p-{n}",
            callback_token=f"t-{n}",
            state=state,
            checkout_request_id=f"ws_CO_{n}",
            **extra,
        )
        uow.session.add(payment)
        uow.commit()
        assert payment.id is not None
        return payment.id


@pytest.fixture
def payments(container: Container) -> dict[str, int]:
    return {
        "paid": add_payment(container, 1, PaymentState.PAID, mpesa_receipt="SKL1"),
        "failed": add_payment(container, 2, PaymentState.FAILED, result_code=1032, result_desc="Cancelled"),
        "pending": add_payment(container, 3, PaymentState.PENDING),
        "held": add_payment(container, 4, PaymentState.UNKNOWN, needs_review=True, review_reason="amount_mismatch"),
    }


def test_list_and_filter(admin: Caller, payments: dict[str, int]) -> None:
    listed = admin.get("/payments").json()["data"]
    assert [p["id"] for p in listed] == sorted(payments.values(), reverse=True)
    assert listed[-1]["amount"] == {"amount": 10_000, "currency": "KES"} and listed[-1]["mpesa_receipt"] == "SKL1"
    assert [p["state"] for p in admin.get("/payments?state=failed").json()["data"]] == ["failed"]
    assert [p["id"] for p in admin.get("/payments?needs_review=true").json()["data"]] == [payments["held"]]
    assert admin.get("/payments?state=lost").json()["error"]["field"] == "state"
    window = admin.get(
        "/payments", params={"created_from": "2000-01-01T00:00:00Z", "created_to": "2001-01-01T00:00:00Z"}
    )
    assert window.json()["data"] == []
    assert admin.get("/payments?created_from=yesterday").status_code == 422
    assert admin.get("/payments?created_from=2026-11-01T00:00:00").json()["error"]["field"] == "created_from"
    assert admin.get("/payments?created_from=0001-01-01T00:00:00%2B01:00").status_code == 422


def test_status_query_is_queued_after_commit(
    client: TestClient, container: Container, payments: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    queried: list[int] = []
    monkeypatch.setattr("bot.jobs.payments.check_status", lambda _u, _g, pid, _n: queried.append(pid))
    admin = Caller(client, _key(container))
    accepted = admin.post(f"/payments/{payments['pending']}/query")
    assert accepted.status_code == 202 and accepted.json()["state"] == "pending"
    assert queried == [payments["pending"]]
    refused = admin.post(f"/payments/{payments['failed']}/query")
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "payment_id"


def _key(container: Container) -> str:
    from tests.admin_api.conftest import make_key

    return make_key(container, 1)


def test_review_dismiss_and_credit(admin: Caller, container: Container, payments: dict[str, int]) -> None:
    no_note = admin.post(f"/payments/{payments['held']}/review", json={"action": "dismiss", "note": ""})
    assert no_note.status_code == 422 and no_note.json()["error"]["field"] == "note"
    not_held = admin.post(f"/payments/{payments['paid']}/review", json={"action": "dismiss", "note": "x"})
    assert not_held.status_code == 409
    savings_before = admin.get("/members/1/balances").json()["savings"]["amount"]
    credited = admin.post(
        f"/payments/{payments['held']}/review", json={"action": "credit", "note": "on statement", "amount": 40_000}
    )
    assert credited.status_code == 200, credited.text
    body = credited.json()
    assert body["state"] == "paid" and body["needs_review"] is False
    assert body["review_note"].startswith("on statement (key:jk_live_")
    assert admin.get("/members/1/balances").json()["savings"]["amount"] == savings_before + 40_000


def test_reviewed_payment_is_announced(admin: Caller, receiver: Receiver, payments: dict[str, int]) -> None:
    admin.post("/webhooks", json={"url": "https://erp.example/h", "events": ["payment.succeeded"]})
    admin.post(f"/payments/{payments['held']}/review", json={"action": "credit", "note": "ok"})
    assert [b["type"] for b in receiver.bodies()] == ["payment.succeeded"]


def test_export_payments_csv(admin: Caller, payments: dict[str, int]) -> None:
    response = admin.get("/exports/payments.csv?state=paid")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["id"], r["amount"], r["currency"], r["mpesa_receipt"]) for r in rows] == [
        (str(payments["paid"]), "10000", "KES", "SKL1")
    ]


def test_payment_scopes(caller: Any, payments: dict[str, int]) -> None:
    reader = caller("payments:read")
    assert reader.get("/payments").status_code == 200
    assert (
        reader.post(f"/payments/{payments['held']}/review", json={"action": "dismiss", "note": "x"}).status_code == 403
    )
    assert caller("members:read").get("/payments").status_code == 403


def test_time_filters_are_iso_8601_not_timestamps(admin: Caller) -> None:
    response = admin.get("/payments?created_from=1700000000")
    assert response.status_code == 422 and response.json()["error"]["field"] == "created_from"
