"""Members and agents through the API: add, edit, deactivate, reset PIN, opt in/out, balances, statement."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin_api.conftest import BOTH, Caller


def test_add_member_normalises_and_numbers(admin: Caller) -> None:
    response = admin.post(
        "/members",
        json={"phone": "0712 345 678", "name": " Neema Njeri ", "language": "sw", "preferred_channel": "sms"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == "+254712345678" and body["name"] == "Neema Njeri"
    assert body["member_no"] == "M00006" and body["role"] == "member"
    assert body["pin_set"] is False and body["active"] is True
    assert body["created_at"].endswith("Z")
    assert admin.get(f"/members/{body['id']}").json() == body


def test_add_agent_and_list_agents(admin: Caller) -> None:
    admin.post("/members", json={"phone": "0712345679", "name": "New Agent", "role": "agent"})
    agents = admin.get("/members?role=agent").json()["data"]
    assert [a["name"] for a in agents] == ["New Agent", "Brian Otieno"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"phone": "12", "name": "X"}, 422, "phone"),
        ({"phone": "0712345670"}, 422, "name"),
        ({"phone": "0712345670", "name": ""}, 422, "name"),
        ({"phone": "0712345670", "name": "X", "role": "boss"}, 422, "role"),
        ({"phone": "0712345670", "name": "X", "language": "fr"}, 422, "language"),
        ({"phone": "0712345670", "name": "X", "nickname": "Y"}, 422, "nickname"),
        ({"phone": "0712345670", "name": "X\u0000"}, 422, "name"),
        ({"phone": "0712345670", "name": 7}, 422, "name"),
        ({"phone": "+254700000001", "name": "Clash"}, 409, "phone"),
        ({"phone": "0712345670", "name": "X", "member_no": "M00001"}, 409, "member_no"),
    ],
)
def test_bad_members_are_refused_naming_the_field(admin: Caller, body: dict[str, Any], status: int, field: str) -> None:
    response = admin.post("/members", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b'"text"', b"\xff\xfe"])
def test_unreadable_bodies_are_4xx(admin: Caller, raw: bytes) -> None:
    response = admin.post("/members", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) >= {"code", "message", "field"}


def test_update_member(admin: Caller) -> None:
    response = admin.patch("/members/3", json={"name": "Chebet K.", "preferred_channel": "whatsapp", "language": None})
    assert response.status_code == 200
    assert response.json()["name"] == "Chebet K." and response.json()["preferred_channel"] == "whatsapp"
    assert admin.patch("/members/3", json={"phone": "+254700000001"}).status_code == 409
    assert admin.patch("/members/3", json={"name": None}).json()["error"]["field"] == "name"


def test_changing_the_phone_clears_the_pin(admin: Caller) -> None:
    assert admin.get("/members/3").json()["pin_set"] is True
    moved = admin.patch("/members/3", json={"phone": "0799000003"}).json()
    assert moved["phone"] == "+254799000003" and moved["pin_set"] is False


def test_deactivate_reactivate_opt_out_reset_pin(admin: Caller) -> None:
    assert admin.post("/members/1/deactivate").json()["active"] is False
    assert admin.get("/members?active=false").json()["data"][0]["id"] == 1
    assert admin.post("/members/1/reactivate").json()["active"] is True
    assert admin.post("/members/1/opt-out").json()["opted_out"] is True
    assert admin.post("/members/1/opt-in").json()["opted_out"] is False
    reset = admin.post("/members/1/reset-pin").json()
    assert reset["pin_set"] is False and reset["pin_locked_until"] is None


def test_reset_pin_lets_the_member_choose_a_new_one(admin: Caller, phone: Any) -> None:
    admin.post("/members/1/reset-pin")
    phone.dial()
    phone.send("1")
    assert "Choose a new 4-digit PIN" in phone.send("1234")
    phone.send("4826")
    assert "1. Balances" in phone.send("4826")


def test_balances_are_money_with_currency(admin: Caller) -> None:
    body = admin.get("/members/1/balances").json()
    assert body["savings"] == {"amount": 1_250_000, "currency": "KES"}
    assert body["shares"] == {"amount": 500_000, "currency": "KES"}
    assert body["loan"] == {"amount": 4_000_000, "currency": "KES"}
    assert body["next_installment"] == {
        "loan_reference": "LN-0001",
        "due_date": "2026-11-28",
        "amount": {"amount": 444_200, "currency": "KES"},
    }
    assert body["contribution"]["cycle"] == "2026-11"


def test_statement_pages_through_ledger_entries(admin: Caller) -> None:
    first = admin.get("/members/1/statement?limit=2").json()
    assert [line["account"] for line in first["data"]] == ["loan_principal", "shares"]
    assert first["data"][0]["amount"] == {"amount": -4_000_000, "currency": "KES"}
    rest = admin.get(f"/members/1/statement?cursor={first['next_cursor']}").json()
    assert [line["amount"]["amount"] for line in rest["data"]] == [250_000, 500_000, 500_000]
    assert rest["has_more"] is False


def test_search_by_phone_and_name(admin: Caller) -> None:
    assert [m["id"] for m in admin.get("/members?phone=0700000004").json()["data"]] == [4]
    assert [m["id"] for m in admin.get("/members?q=chebet").json()["data"]] == [3]
    assert admin.get("/members?phone=nonsense").status_code == 422
    assert admin.get("/members?colour=red").json()["error"] == {
        "code": "invalid",
        "message": "colour: unknown query parameter",
        "field": "colour",
    }


def test_writes_are_audited_with_the_key_and_no_secrets(admin: Caller) -> None:
    admin.post("/members", json={"phone": "0712345681", "name": "Audited"})
    admin.post("/members/2/reset-pin")
    trail = admin.get("/audit-log").json()["data"]
    assert [(e["action"], e["resource_id"]) for e in trail] == [("members.reset_pin", "2"), ("members.create", "6")]
    assert all(e["actor"].startswith("key:jk_live_") for e in trail)
    assert "0712345681" not in str(trail) and trail[1]["details"]["name"] == "Audited"
    assert admin.get("/audit-log?action=members.create").json()["data"][0]["action"] == "members.create"


def test_reads_are_not_audited(admin: Caller) -> None:
    admin.get("/members")
    admin.get("/members/1/balances")
    assert admin.get("/audit-log").json()["data"] == []


@BOTH
def test_ids_beyond_the_id_columns_are_404_or_422_not_500(admin: Caller) -> None:
    assert admin.get("/members/2147483648").status_code == 404
    assert admin.patch("/members/2147483648", json={"name": "X"}).status_code == 404
    assert admin.get("/loans?member_id=2147483648").json()["error"]["field"] == "member_id"
    body = {"member_id": 2**31, "reference": "L", "principal": 1, "installments": 1, "first_due_date": "2027-01-01"}
    assert admin.post("/loans", json=body).json()["error"]["field"] == "member_id"
