"""Organisation isolation, over every operation of the route table: another org's ids answer 404.

The demo organisation's admin key is pointed at a second organisation's member, loan, binding,
webhook, delivery and key; lists and exports must not show that organisation's data either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from admin_api.operations import Operation
from admin_api.routes import ROUTE_TABLE
from bot import demo
from bot.sessions import MemoryStore
from core.clock import FixedClock
from core.uow import UnitOfWork, make_engine
from tests.admin_api.conftest import PRODUCTION, Caller, OtherOrg, build_other_org, make_key
from tests.conftest import fresh_schema, make_container, postgres_engine

OTHER = "__other__"
"""Stands for the other organisation's id of the right kind in a body."""

BODIES: dict[str, Any] = {
    "organisation.update": {"quiet_start": "21:00"},
    "bindings.create": {"kind": "sms", "address": "55555"},
    "contribution_plan.set": {"amount": 100_000, "day_of_month": 5},
    "members.create": {"phone": "0712999000", "name": "Isolation Test"},
    "members.update": {"name": "Renamed"},
    "members.import": "phone,name\n0712999001,Imported One\n",
    "loans.create": {
        "member_id": OTHER,
        "reference": "ISO-1",
        "principal": 100_000,
        "installments": 2,
        "first_due_date": "2026-12-22",
    },
    "loans.repay": {"amount": 1_000, "reference": "R-1"},
    "contributions.record": {"amount": 1_000, "reference": "C-1"},
    "webhooks.create": {"url": "https://iso.example/hook", "events": ["member.created"]},
    "webhooks.update": {"active": False},
    "api_keys.create": {"name": "iso", "scopes": ["members:read"]},
    "payments.review": {"action": "dismiss", "note": "checked"},
    "products.create": {"name": "Iso Soap", "short_code": "ISOBAR", "unit_price": 1_000},
    "products.update": {"unit_price": 1},
    "sales.void": {"reason": "test"},
    "collections.create": {"agent_id": OTHER, "amount": 1_000, "due_date": "2026-12-01"},
    "reminder_rules.create": {
        "target": "contribution",
        "offset_days": -1,
        "template_en": "Hi {name}",
        "template_sw": "Habari {name}",
    },
    "reminder_rules.update": {"active": False},
    "broadcasts.create": {"audience": "list", "body_en": "Hello", "member_ids": [OTHER]},
}
"""A valid body for every operation that takes one; a new operation must add its own."""

BODY_REFERENCES = {"loans.create": "member_id", "collections.create": "agent_id", "broadcasts.create": "member_id"}
"""Operations whose body names another resource: pointed at the other org, they must 404 too."""


def _path(op: Operation, ids: dict[str, int]) -> str:
    return op.path.format(**{name: ids[name] for name in op.path_params})


def _call(admin: Caller, op: Operation, other: OtherOrg) -> Any:
    body = BODIES.get(op.name)
    if isinstance(body, dict):
        ref = other.ids.get(BODY_REFERENCES.get(op.name, ""), 0)
        body = {k: ref if v == OTHER else [ref] if v == [OTHER] else v for k, v in body.items()}
        return admin.request(op.method, _path(op, other.ids), json=body)
    if isinstance(body, str):
        return admin.request(op.method, _path(op, other.ids), content=body, headers={"Content-Type": "text/csv"})
    return admin.request(op.method, _path(op, other.ids))


def _check(admin: Caller, op: Operation, other: OtherOrg) -> None:
    response = _call(admin, op, other)
    if op.path_params or op.name in BODY_REFERENCES:
        assert response.status_code == 404, (op.name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"
        return
    assert response.status_code < 300, (op.name, response.status_code, response.text)
    for leaked in (other.marker, "OTHER-1", "99999", "other.example", "+254722000111", "OSOAP", "Other news"):
        assert leaked not in response.text, (op.name, leaked)


def test_every_operation_is_covered() -> None:
    for op in ROUTE_TABLE:
        takes_body = op.body is not None or op.request_media_type != "application/json"
        if takes_body:
            assert op.name in BODIES, f"add a valid body for {op.name} to BODIES"


@dataclass
class World:
    admin: Caller
    other: OtherOrg


@pytest.fixture(scope="module", params=["embedded", PRODUCTION])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app per module and backend: every operation runs against the same two organisations."""
    from bot.app import create_app
    from bot.settings import Settings

    if request.param == "embedded":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('iso')}/iso.db")
        SQLModel.metadata.create_all(engine)
    else:
        engine = postgres_engine()
        fresh_schema(engine)
    clock = FixedClock(datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    settings = Settings(database_url="sqlite:///unused.db", public_url="http://testserver", admin_rate_burst=10_000)
    container = make_container(engine, settings, clock, store=MemoryStore())
    with UnitOfWork(engine) as uow:
        org = demo.seed(uow, clock)
    assert org.id is not None
    with TestClient(create_app(container)) as client:
        other = build_other_org(client, container, clock)
        yield World(Caller(client, make_key(container, org.id)), other)
    engine.dispose()


@pytest.mark.parametrize("op", ROUTE_TABLE, ids=lambda op: op.name)
def test_other_orgs_ids_answer_404(world: World, op: Operation) -> None:
    _check(world.admin, op, world.other)


def test_other_org_is_untouched_after_every_call(world: World) -> None:
    for op in ROUTE_TABLE:
        _call(world.admin, op, world.other)
    _other_org_untouched(world.other)


def _other_org_untouched(other: OtherOrg) -> None:
    own = other.caller
    member = own.get(f"/members/{other.ids['member_id']}").json()
    assert member["name"] == other.marker and member["active"] is True and member["opted_out"] is False
    assert own.get(f"/loans/{other.ids['loan_id']}").json()["outstanding"]["amount"] == 110_000
    assert own.get(f"/webhooks/{other.ids['webhook_id']}").json()["active"] is True
    assert [k["revoked_at"] for k in own.get("/api-keys").json()["data"]] == [None]
    assert own.get("/organisation").json()["quiet_start"] == "20:00"
    assert [b["address"] for b in own.get("/channel-bindings").json()["data"]] == ["99999"]
    assert own.get("/audit-log").json()["data"] == []
    assert own.get("/dashboard").json()["members"]["total"] == 2
    assert own.get(f"/payments/{other.ids['payment_id']}").json()["needs_review"] is True
    assert own.get(f"/products/{other.ids['product_id']}").json()["unit_price"]["amount"] == 5_000
    assert own.get(f"/sales/{other.ids['sale_id']}").json()["status"] == "completed"
    assert own.get(f"/collections/{other.ids['collection_id']}").json()["status"] == "open"
    assert own.get(f"/broadcasts/{other.ids['broadcast_id']}").json()["state"] != "cancelled"
    assert all(rule["active"] for rule in own.get("/reminder-rules?limit=100").json()["data"])
