"""Admin API fixtures: callers holding keys of the demo organisation or a second one, a webhook receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine as DbEngine
from starlette.testclient import TestClient

from bot.bootstrap import Container
from bot.jobs.webhooks import HTTP_SERVICE
from core import (
    apikeys,
    broadcasts,
    catalogue,
    collections,
    loans,
    messagelog,
    orgs,
    reminder_rules,
    roster,
    sales,
    webhooks,
)
from core.clock import FixedClock
from core.tables import (
    BindingKind,
    Organisation,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentState,
    Reminder,
    Role,
)
from core.uow import UnitOfWork
from tests.conftest import deployment

PRODUCTION = pytest.param("production", marks=[pytest.mark.postgres, pytest.mark.redis])
BOTH = pytest.mark.parametrize("backend", ["embedded", PRODUCTION], indirect=True)
"""For the tests whose database semantics matter (isolation, idempotency, all-or-nothing imports...)."""


@pytest.fixture(params=["embedded"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[DbEngine, Any]]:
    """SQLite + memory for most admin tests; ``@BOTH`` adds PostgreSQL + Redis (3 s of schema each)."""
    yield from deployment(request, tmp_path)


@dataclass
class Caller:
    """Sends requests to /admin/v1 with one API key."""

    client: TestClient
    token: str | None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.request(method, "/admin/v1" + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)


def make_key(container: Container, org_id: int, scopes: tuple[str, ...] = ("admin",), name: str = "test") -> str:
    with UnitOfWork(container.db) as uow:
        _, token = apikeys.create(uow, org_id, name, list(scopes))
        uow.commit()
    return token


@pytest.fixture
def caller(client: TestClient, container: Container, demo_org: Organisation) -> Any:
    """``caller("members:read", ...)`` is a Caller with a fresh demo-org key holding those scopes."""
    assert demo_org.id is not None
    org_id = demo_org.id

    def build(*scopes: str) -> Caller:
        return Caller(client, make_key(container, org_id, scopes or ("admin",)))

    return build


@pytest.fixture
def admin(caller: Any) -> Caller:
    built: Caller = caller("admin")
    return built


@dataclass
class OtherOrg:
    """A second organisation with one of everything, to prove the demo org's keys cannot reach it."""

    org_id: int
    ids: dict[str, int]
    caller: Caller
    marker: str = "Zawadi Other-Org"


@pytest.fixture
def other_org(client: TestClient, container: Container, clock: FixedClock) -> OtherOrg:
    return build_other_org(client, container, clock)


def build_other_org(client: TestClient, container: Container, clock: FixedClock) -> OtherOrg:
    with UnitOfWork(container.db) as uow:
        org = orgs.create_org(uow, "Other SACCO", slug="other")
        assert org.id is not None
        now = clock.now()
        binding = orgs.bind(uow, org, BindingKind.SMS, "99999")
        sub = webhooks.subscribe(uow, org.id, "https://other.example/hook", ["*"])
        member = roster.add(uow, org, phone="+254722000111", name="Zawadi Other-Org", now=now)
        agent = roster.add(uow, org, phone="+254722000112", name="Agent Other-Org", role=Role.AGENT, now=now)
        assert member.id is not None and agent.id is not None
        today = now.date()
        loan = loans.disburse(
            uow,
            org,
            member.id,
            reference="OTHER-1",
            principal=100_000,
            interest=10_000,
            schedule=[(today + timedelta(days=30), 100_000, 10_000)],
            disbursed_on=today,
        )
        key, token = apikeys.create(uow, org.id, "other", ["admin"])
        product = catalogue.add_product(uow, org, name="Other Soap", short_code="OSOAP", unit_price=5_000)
        assert product.id is not None
        sale = sales.record_sale(
            uow, org, agent, [sales.Line(product.id, 1, 5_000)], method=PaymentMethod.CASH, now=now
        )
        collection = collections.create_collection(uow, org, agent.id, 5_000, today)
        payment = Payment(
            org_id=org.id,
            member_id=member.id,
            purpose=PaymentPurpose.CONTRIBUTION,
            subject="2026-11",
            amount=50_000,
            phone=member.phone,
            account_reference="OTHER",
            idempotency_key="other-payment",
            callback_token="other-token",
            state=PaymentState.UNKNOWN,
            checkout_request_id="ws_CO_other",
            needs_review=True,
        )
        uow.session.add(payment)
        [rule, *_] = reminder_rules.seed_defaults(uow, org)
        reminder = Reminder(
            org_id=org.id,
            rule_id=rule.id or 0,
            member_id=member.id,
            target_kind=rule.target,
            target_id="1",
            due_date=today,
            body="Zawadi Other-Org, pay up",
            send_after=now,
        )
        uow.session.add(reminder)
        broadcast = broadcasts.create(uow, org, audience="all", body_en="Other news", now=now)
        message = messagelog.record_outbound(
            uow,
            org_id=org.id,
            member_id=member.id,
            phone=member.phone,
            channel="sms",
            provider="africastalking",
            kind="text",
            purpose="reminder",
            content="Zawadi Other-Org, pay up",
            at=now,
        )
        uow.flush()
        delivery_ids = [d.id for d in webhooks.emit(uow, org.id, "member.created", {"id": member.id}, now)]
        uow.commit()
    ids = {
        "member_id": member.id,
        "loan_id": loan.id or 0,
        "binding_id": binding.id or 0,
        "webhook_id": sub.id or 0,
        "delivery_id": delivery_ids[0] or 0,
        "key_id": key.id or 0,
        "agent_id": agent.id,
        "product_id": product.id,
        "sale_id": sale.id or 0,
        "collection_id": collection.id or 0,
        "payment_id": payment.id or 0,
        "rule_id": rule.id or 0,
        "reminder_id": reminder.id or 0,
        "broadcast_id": broadcast.id or 0,
        "message_id": message.id or 0,
    }
    return OtherOrg(org_id=org.id, ids=ids, caller=Caller(client, token))


@dataclass
class Receiver:
    """Stands in for a customer's webhook endpoint: records requests, answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    error: Exception | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def receiver(container: Container) -> Iterator[Receiver]:
    found = Receiver()
    http = httpx.Client(transport=httpx.MockTransport(found.handler))
    container.services[HTTP_SERVICE] = http
    yield found
    http.close()


def days(n: int) -> date:
    return date(2026, 11, 22) + timedelta(days=n)
