"""Products, sales (list, void, export) and collections through the API."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bot.bootstrap import Container
from core import sales
from core.clock import FixedClock
from core.tables import Member, Organisation, PaymentMethod
from core.uow import UnitOfWork
from tests.admin_api.conftest import Caller, Receiver

SOAP = {"name": "Bar Soap", "short_code": "soap1", "unit_price": 12_000, "stock": 10, "commission_basis_points": 250}


def _sell(container: Container, clock: FixedClock, product_id: int, quantity: int) -> int:
    with UnitOfWork(container.db) as uow:
        org = uow.session.get(Organisation, 1)
        agent = uow.session.get(Member, 2)
        assert org is not None and agent is not None
        sale = sales.record_sale(
            uow, org, agent, [sales.Line(product_id, quantity, 12_000)], method=PaymentMethod.CASH, now=clock.now()
        )
        uow.commit()
        assert sale.id is not None
        return sale.id


def test_products(admin: Caller) -> None:
    created = admin.post("/products", json=SOAP)
    assert created.status_code == 201, created.text
    soap = created.json()
    assert soap["short_code"] == "SOAP1" and soap["commission_basis_points"] == 250 and soap["stock"] == 10
    assert admin.post("/products", json=SOAP).json()["error"]["field"] == "short_code"
    assert admin.post("/products", json={**SOAP, "short_code": "a b"}).json()["error"]["field"] == "short_code"
    updated = admin.patch(f"/products/{soap['id']}", json={"unit_price": 13_000, "active": False, "stock": None})
    assert updated.json()["unit_price"]["amount"] == 13_000 and updated.json()["stock"] is None
    assert soap["id"] in [p["id"] for p in admin.get("/products?active=false").json()["data"]]
    assert admin.patch(f"/products/{soap['id']}", json={"unit_price": None}).status_code == 422


def test_void_sale_reverses_and_announces(
    admin: Caller, container: Container, clock: FixedClock, receiver: Receiver
) -> None:
    soap = admin.post("/products", json=SOAP).json()
    sale_id = _sell(container, clock, soap["id"], 3)
    assert admin.get(f"/products/{soap['id']}").json()["stock"] == 7
    sale = admin.get(f"/sales/{sale_id}").json()
    assert sale["total"]["amount"] == 36_000 and sale["items"][0]["quantity"] == 3
    admin.post("/webhooks", json={"url": "https://erp.example/h", "events": ["sale.voided"]})
    voided = admin.post(f"/sales/{sale_id}/void", json={"reason": "typed the wrong product"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided" and voided.json()["voided_by"].startswith("api:jk_live_")
    assert admin.get(f"/products/{soap['id']}").json()["stock"] == 10
    assert [b["type"] for b in receiver.bodies()] == ["sale.voided"]
    again = admin.post(f"/sales/{sale_id}/void", json={"reason": "twice"})
    assert again.status_code == 409
    assert admin.post(f"/sales/{sale_id}/void", json={}).json()["error"]["field"] == "reason"


def test_list_and_export_sales(admin: Caller, container: Container, clock: FixedClock) -> None:
    soap = admin.post("/products", json=SOAP).json()
    first, second = _sell(container, clock, soap["id"], 1), _sell(container, clock, soap["id"], 2)
    assert [s["id"] for s in admin.get("/sales?agent_id=2").json()["data"]] == [second, first]
    assert admin.get("/sales?agent_id=3").json()["data"] == []
    rows = list(csv.DictReader(io.StringIO(admin.get("/exports/sales.csv").text)))
    assert [(r["id"], r["total"], r["currency"]) for r in rows] == [
        (str(first), "12000", "KES"),
        (str(second), "24000", "KES"),
    ]


def test_collections(admin: Caller) -> None:
    created = admin.post("/collections", json={"agent_id": 2, "amount": 150_000, "due_date": "2026-11-25"})
    assert created.status_code == 201, created.text
    found = created.json()
    assert found["reference"].startswith("C-") and found["created_by"].startswith("api:jk_live_")
    assert admin.post("/collections", json={"agent_id": 1, "amount": 1, "due_date": "2026-11-25"}).status_code == 404
    assert found["id"] in [c["id"] for c in admin.get("/collections?status=open&agent_id=2").json()["data"]]
    cancelled = admin.post(f"/collections/{found['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert admin.post(f"/collections/{found['id']}/cancel").status_code == 409


@pytest.mark.parametrize("path", ["/products", "/sales", "/collections", "/exports/sales.csv"])
def test_trade_needs_sales_scopes(caller: Any, path: str) -> None:
    assert caller("members:read").get(path).status_code == 403
    assert caller("sales:read").get(path).status_code == 200


def test_every_new_sale_is_announced(
    admin: Caller, container: Container, clock: FixedClock, receiver: Receiver
) -> None:
    soap = admin.post("/products", json=SOAP).json()
    admin.post("/webhooks", json={"url": "https://erp.example/h", "events": ["sale.created"]})
    sale_id = _sell(container, clock, soap["id"], 2)
    [payload] = receiver.bodies()
    assert payload["type"] == "sale.created" and payload["id"] == f"evt_sale_{sale_id}"
    assert payload["data"]["total"] == 24_000 and payload["data"]["status"] == "completed"


def test_a_rolled_back_sale_is_not_announced(
    admin: Caller, container: Container, clock: FixedClock, receiver: Receiver
) -> None:
    soap = admin.post("/products", json=SOAP).json()
    admin.post("/webhooks", json={"url": "https://erp.example/h", "events": ["*"]})
    with UnitOfWork(container.db) as uow:
        org, agent = uow.session.get(Organisation, 1), uow.session.get(Member, 2)
        assert org is not None and agent is not None
        sales.record_sale(
            uow, org, agent, [sales.Line(soap["id"], 1, 12_000)], method=PaymentMethod.CASH, now=clock.now()
        )
    assert receiver.requests == []
