"""Organisation settings, channel bindings, the contribution plan, the dashboard and the documents."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from admin_api.routes import ROUTE_TABLE
from tests.admin_api.conftest import Caller


def test_settings_read_and_change(admin: Caller, caller: Any) -> None:
    org = caller("members:read").get("/organisation").json()
    assert org["slug"] == "demo" and org["min_payment"] == {"amount": 1000, "currency": "KES"}
    changed = admin.patch(
        "/organisation", json={"quiet_start": "21:30", "max_payment": 5_000_000, "pin_max_attempts": 5}
    )
    assert changed.status_code == 200
    assert changed.json()["quiet_start"] == "21:30" and changed.json()["max_payment"]["amount"] == 5_000_000
    assert caller("members:write").patch("/organisation", json={"name": "X"}).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quiet_start": "25:00"}, "quiet_start"),
        ({"timezone": "Africa"}, "timezone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"min_payment": 20_000_000}, "max_payment"),
        ({"default_language": "fr"}, "default_language"),
        ({"currency": "USD"}, "currency"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_bad_settings_are_422_and_change_nothing(admin: Caller, body: dict[str, Any], field: str) -> None:
    response = admin.patch("/organisation", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert admin.get("/organisation").json()["name"] == "Demo SACCO"


def test_channel_bindings(admin: Caller, other_org: Any) -> None:
    listed = admin.get("/channel-bindings").json()["data"]
    assert {(b["kind"], b["address"]) for b in listed} >= {("ussd", "*384*1#"), ("sms", "*")}
    created = admin.post("/channel-bindings", json={"kind": "whatsapp", "address": "109876543210"})
    assert created.status_code == 201
    taken = admin.post("/channel-bindings", json={"kind": "sms", "address": "99999"})
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "address"
    deleted = admin.request("DELETE", f"/channel-bindings/{created.json()['id']}")
    assert deleted.json() == {"id": created.json()["id"], "deleted": True}
    assert admin.request("DELETE", f"/channel-bindings/{created.json()['id']}").status_code == 404


def test_contribution_plan(admin: Caller) -> None:
    assert admin.get("/contribution-plan").json()["amount"]["amount"] == 100_000
    updated = admin.put("/contribution-plan", json={"amount": 150_000, "day_of_month": 31, "account_kind": "shares"})
    assert updated.status_code == 200 and updated.json()["day_of_month"] == 31
    assert admin.get("/members/1/balances").json()["contribution"]["due_date"] == "2026-11-30"
    assert (
        admin.put("/contribution-plan", json={"amount": 1, "day_of_month": 0}).json()["error"]["field"]
        == "day_of_month"
    )


def test_dashboard_summarises_the_organisation(admin: Caller) -> None:
    board = admin.get("/dashboard").json()
    assert board["today"] == "2026-11-22" and board["currency"] == "KES"
    assert board["members"] == {"total": 5, "active": 5, "members": 3, "agents": 1, "officers": 1, "opted_out": 0}
    assert board["balances"]["savings"]["amount"] == 1_250_000 + 600_000
    assert board["balances"]["loans_outstanding"]["amount"] == 4_000_000
    assert board["contributions"]["contributors"] == 2 and board["contributions"]["expected_contributors"] == 3
    assert board["contributions"]["rate"] == pytest.approx(0.6667)
    assert board["payments_today"] == {}
    assert board["deliveries_last_7_days"]["webhooks"] == {"succeeded": 0, "failed": 0, "pending": 0, "rate": None}


def test_openapi_document_is_generated_from_the_route_table(client: TestClient) -> None:
    spec = client.get("/admin/v1/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    operations = [(m.upper(), p) for p, methods in spec["paths"].items() for m in methods]
    assert sorted(operations) == sorted((op.method, "/admin/v1" + op.path) for op in ROUTE_TABLE)
    create = spec["paths"]["/admin/v1/members"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MemberCreate"
    }
    assert {"201", "401", "403", "409", "422", "429"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert create["x-scope"] == "members:write"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_docs_page_lists_every_operation(client: TestClient) -> None:
    page = client.get("/admin/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http" not in page.text.split("<body>")[0].lower().replace("http-equiv", "")  # no CDN
    for op in ROUTE_TABLE:
        assert f"/admin/v1{op.path}" in page.text


def test_unknown_paths_and_methods_answer_json(admin: Caller) -> None:
    missing = admin.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = admin.request("DELETE", "/members")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    huge = admin.get("/members/99999999999999999999")
    assert huge.status_code == 404
