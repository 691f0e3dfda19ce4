"""Loans with schedules, cash repayments and contributions through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin_api.conftest import Caller, Receiver

EQUAL = {
    "member_id": 3,
    "reference": "LN-0100",
    "principal": 1_000_000,
    "interest": 100_001,
    "installments": 3,
    "first_due_date": "2027-01-31",
}


def test_disburse_with_equal_monthly_installments(admin: Caller) -> None:
    response = admin.post("/loans", json=EQUAL)
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["status"] == "active" and loan["outstanding"] == {"amount": 1_100_001, "currency": "KES"}
    assert [i["due_date"] for i in loan["schedule"]] == ["2027-01-31", "2027-02-28", "2027-03-31"]
    assert [i["principal_due"]["amount"] for i in loan["schedule"]] == [333_333, 333_333, 333_334]
    assert [i["interest_due"]["amount"] for i in loan["schedule"]] == [33_333, 33_333, 33_335]
    assert admin.get("/members/3/balances").json()["loan"]["amount"] == 1_000_000
    assert admin.get(f"/loans/{loan['id']}").json() == loan


def test_disburse_with_an_explicit_schedule(admin: Caller) -> None:
    schedule = [
        {"due_date": "2026-12-15", "principal": 60_000, "interest": 5_000},
        {"due_date": "2027-01-15", "principal": 40_000, "interest": 0},
    ]
    body = {"member_id": 4, "reference": "LN-0101", "principal": 100_000, "interest": 5_000, "schedule": schedule}
    loan = admin.post("/loans", json=body).json()
    assert [(i["seq"], i["outstanding"]["amount"]) for i in loan["schedule"]] == [(1, 65_000), (2, 40_000)]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"reference": "LN-0001"}, 409, "reference"),
        ({"member_id": 999}, 404, "member_id"),
        ({"principal": 0}, 422, "principal"),
        ({"principal": 10.5}, 422, "principal"),
        ({"principal": "1000"}, 422, "principal"),
        ({"installments": None}, 422, None),
        ({"schedule": [{"due_date": "2027-01-01", "principal": 1, "interest": 0}]}, 422, None),
        ({"first_due_date": "2027-02-30"}, 422, "first_due_date"),
    ],
)
def test_bad_loans_are_refused(admin: Caller, change: dict[str, Any], status: int, field: str | None) -> None:
    response = admin.post("/loans", json={**EQUAL, **change})
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


def test_schedule_that_does_not_add_up_is_422(admin: Caller) -> None:
    body = {**EQUAL, "installments": None, "first_due_date": None}
    body["schedule"] = [{"due_date": "2027-01-01", "principal": 1, "interest": 0}]
    body = {k: v for k, v in body.items() if v is not None}
    response = admin.post("/loans", json=body)
    assert response.status_code == 422 and response.json()["error"]["field"] == "schedule"


def test_cash_repayment_splits_interest_first_and_closes_the_loan(admin: Caller) -> None:
    loan = admin.post("/loans", json={**EQUAL, "installments": 1, "interest": 100_000}).json()
    part = admin.post(f"/loans/{loan['id']}/repayments", json={"amount": 150_000, "reference": "RCT-9"}).json()
    assert part["interest"]["amount"] == 100_000 and part["principal"]["amount"] == 50_000
    assert part["outstanding"]["amount"] == 950_000 and part["loan_status"] == "active"
    too_much = admin.post(f"/loans/{loan['id']}/repayments", json={"amount": 950_001, "reference": "RCT-10"})
    assert too_much.status_code == 422 and too_much.json()["error"]["field"] == "amount"
    rest = admin.post(f"/loans/{loan['id']}/repayments", json={"amount": 950_000, "reference": "RCT-11"}).json()
    assert rest["loan_status"] == "closed" and rest["outstanding"]["amount"] == 0
    again = admin.post(f"/loans/{loan['id']}/repayments", json={"amount": 1, "reference": "RCT-12"})
    assert again.status_code == 409
    assert [x["status"] for x in admin.get("/loans?status=closed").json()["data"]] == ["closed"]


def test_overdue_installments_are_flagged(admin: Caller) -> None:
    schedule = [{"due_date": "2026-10-01", "principal": 10_000, "interest": 0}]
    loan = admin.post(
        "/loans", json={"member_id": 4, "reference": "LN-OLD", "principal": 10_000, "schedule": schedule}
    ).json()
    assert loan["schedule"][0]["overdue"] is True
    assert admin.get("/dashboard").json()["loans"]["overdue_members"] == 1


def test_contribution_recorded_in_cash(admin: Caller) -> None:
    response = admin.post("/members/3/contributions", json={"amount": 70_000, "reference": "RCT-20"})
    assert response.status_code == 201
    body = response.json()
    assert body["cycle"] == "2026-11" and body["paid_in_cycle"]["amount"] == 370_000
    back = admin.post("/members/3/contributions", json={"amount": 1, "reference": "x", "cycle": "2026-13"})
    assert back.status_code == 422 and back.json()["error"]["field"] == "cycle"


def test_loan_disbursed_webhook(admin: Caller, receiver: Receiver) -> None:
    admin.post("/webhooks", json={"url": "https://erp.example/h", "events": ["loan.disbursed"]})
    admin.post("/loans", json=EQUAL)
    [payload] = receiver.bodies()
    assert payload["type"] == "loan.disbursed" and payload["data"]["reference"] == "LN-0100"
    assert "schedule" not in payload["data"]


def test_scopes_for_loans(caller: Any) -> None:
    reader = caller("loans:read")
    assert reader.get("/loans").status_code == 200
    assert reader.post("/loans", json=EQUAL).status_code == 403
    assert reader.post("/loans/1/repayments", json={"amount": 1, "reference": "x"}).status_code == 403
    assert caller("payments:write").post("/loans/1/repayments", json={"amount": 1, "reference": "x"}).status_code == 201
