"""Reminder rules, sent reminders, broadcasts and the message log through the API."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bootstrap import Container
from core import messagelog
from core.clock import FixedClock
from core.uow import UnitOfWork
from tests.admin_api.conftest import Caller

RULE = {
    "target": "loan_installment",
    "offset_days": -2,
    "template_en": "Hi {name}, {amount} due {due_date}",
    "template_sw": "Habari {name}, {amount} tarehe {due_date}",
}


def test_rules_create_update_validate(admin: Caller) -> None:
    created = admin.post("/reminder-rules", json=RULE)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["offset_days"] == -2 and rule["active"] is True
    paused = admin.patch(f"/reminder-rules/{rule['id']}", json={"active": False, "offset_days": -1})
    assert paused.json()["active"] is False and paused.json()["offset_days"] == -1
    bad = admin.post("/reminder-rules", json={**RULE, "template_en": "Hi {nickname}"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "template_en"
    repeats = admin.post("/reminder-rules", json={**RULE, "max_repeats": 3})
    assert repeats.status_code == 422 and repeats.json()["error"]["field"] == "max_repeats"
    assert rule["id"] in [r["id"] for r in admin.get("/reminder-rules?limit=100").json()["data"]]


def test_broadcast_to_a_list_and_cancel(admin: Caller, container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    dispatched: list[str] = []
    monkeypatch.setattr("bot.jobs.reminders.dispatch_reminders", lambda: dispatched.append("go"))
    created = admin.post("/broadcasts", json={"audience": "list", "body_en": "AGM on Saturday", "member_ids": [1, 3]})
    assert created.status_code == 201, created.text
    broadcast = created.json()
    assert broadcast["recipients"] == 2 and broadcast["body_sw"] == "AGM on Saturday"
    assert broadcast["created_by"].startswith("api:jk_live_")
    assert dispatched == ["go"]
    assert admin.get(f"/broadcasts/{broadcast['id']}").json()["id"] == broadcast["id"]
    cancelled = admin.post(f"/broadcasts/{broadcast['id']}/cancel").json()
    assert cancelled["state"] == "cancelled"
    assert admin.post("/broadcasts", json={"audience": "role", "body_en": "x"}).json()["error"]["field"] == "role"
    missing = admin.post("/broadcasts", json={"audience": "list", "body_en": "x", "member_ids": [999]})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "member_ids"
    entry = admin.get("/audit-log?action=broadcasts.create").json()["data"][0]
    assert entry["details"]["recipients"] == 2


def test_sent_reminders_list(admin: Caller) -> None:
    page = admin.get("/reminders?state=sent").json()
    assert page["has_more"] is False
    assert admin.get("/reminders?state=lost").json()["error"]["field"] == "state"


def test_message_log_masks_phones(admin: Caller, container: Container, clock: FixedClock) -> None:
    with UnitOfWork(container.db) as uow:
        for n in range(3):
            messagelog.record_outbound(
                uow,
                org_id=1,
                member_id=1,
                phone="+254700000001",
                channel="sms",
                provider="africastalking",
                kind="text",
                purpose="reminder",
                content=f"Message {n}",
                at=clock.now(),
            )
        uow.commit()
    first = admin.get("/messages?limit=2&member_id=1").json()
    assert [m["content"] for m in first["data"]] == ["Message 2", "Message 1"]
    assert {m["phone"] for m in first["data"]} == {"+2547****0001"}
    rest = admin.get(f"/messages?limit=2&member_id=1&cursor={first['next_cursor']}").json()
    assert [m["content"] for m in rest["data"]] == ["Message 0"] and rest["has_more"] is False
    assert admin.get(f"/messages/{first['data'][0]['id']}").json()["phone"] == "+2547****0001"
    assert admin.get("/messages?phone=0700000001&direction=out").json()["data"][0]["content"] == "Message 2"


@pytest.mark.parametrize(("path", "scope"), [("/reminder-rules", "reminders:read"), ("/messages", "messages:read")])
def test_reminder_and_message_scopes(caller: Any, path: str, scope: str) -> None:
    assert caller("members:read").get(path).status_code == 403
    assert caller(scope).get(path).status_code == 200
