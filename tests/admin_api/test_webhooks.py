"""Outbound webhooks: signatures, delivery through httpx.MockTransport, retries with backoff, replay."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.bootstrap import Container
from bot.jobs import webhooks as jobs
from core import events, ledger, webhook_signature, webhooks
from core.clock import FixedClock
from core.tables import (
    AccountKind,
    Collection,
    CollectionStatus,
    DeliveryStatus,
    Payment,
    PaymentPurpose,
    PaymentState,
    WebhookDelivery,
)
from core.uow import UnitOfWork
from tests.admin_api.conftest import BOTH, Caller, Receiver

HOOK = {"url": "https://erp.example/jumbe", "events": ["member.created", "payment.succeeded", "payment.failed"]}


def _subscribe(admin: Caller, **overrides: Any) -> dict[str, Any]:
    response = admin.post("/webhooks", json={**HOOK, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _deliveries(container: Container) -> list[WebhookDelivery]:
    with UnitOfWork(container.db) as uow:
        return list(uow.session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))  # type: ignore[arg-type]


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"evt_1","type":"member.created"}'
    header = webhook_signature.sign("whsec_test", body, 1_790_000_000)
    expected = hmac.new(b"whsec_test", b"1790000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1790000000,v1={expected}"
    assert webhook_signature.verify_signature("whsec_test", header, body, now=1_790_000_100)


@pytest.mark.parametrize(
    ("secret", "body", "now", "tamper"),
    [
        ("whsec_other", b"{}", 1_790_000_000, None),
        ("whsec_test", b"{ }", 1_790_000_000, None),
        ("whsec_test", b"{}", 1_790_000_301, None),
        ("whsec_test", b"{}", 1_790_000_000, "t=abc,v1=00"),
        ("whsec_test", b"{}", 1_790_000_000, ""),
    ],
)
def test_bad_signatures_do_not_verify(secret: str, body: bytes, now: int, tamper: str | None) -> None:
    header = tamper if tamper is not None else webhook_signature.sign("whsec_test", b"{}", 1_790_000_000)
    assert not webhook_signature.verify_signature(secret, header, body, now=now)


@BOTH
def test_member_created_is_delivered_signed(
    admin: Caller, receiver: Receiver, container: Container, clock: FixedClock
) -> None:
    secret = _subscribe(admin)["secret"]
    created = admin.post("/members", json={"phone": "0712000901", "name": "Hook Person"}).json()
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert str(sent.url) == HOOK["url"]
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["jumbe-event"] == "member.created"
    assert webhook_signature.verify_signature(
        secret, sent.headers["jumbe-signature"], sent.content, int(clock.now().timestamp())
    )
    payload = json.loads(sent.content)
    assert payload["type"] == "member.created" and payload["id"] == sent.headers["jumbe-event-id"]
    assert payload["data"]["id"] == created["id"] and payload["data"]["phone"] == "+254712000901"
    assert payload["created_at"] == "2026-11-22T09:30:00Z"
    [delivery] = _deliveries(container)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200


def test_unsubscribed_events_and_paused_subscriptions_send_nothing(admin: Caller, receiver: Receiver) -> None:
    hook = _subscribe(admin, events=["payment.failed"])
    admin.post("/members", json={"phone": "0712000902", "name": "Nobody Listens"})
    assert receiver.requests == []
    admin.patch(f"/webhooks/{hook['id']}", json={"events": ["*"], "active": False})
    admin.post("/members", json={"phone": "0712000903", "name": "Paused"})
    assert receiver.requests == []


def test_non_2xx_is_retried_with_backoff_then_fails(
    admin: Caller, receiver: Receiver, container: Container, clock: FixedClock
) -> None:
    _subscribe(admin)
    receiver.statuses = [500] * jobs.MAX_ATTEMPTS
    admin.post("/members", json={"phone": "0712000904", "name": "Flaky Endpoint"})
    [delivery] = _deliveries(container)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500 and delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at.replace(tzinfo=None) == (clock.now() + timedelta(seconds=30)).replace(tzinfo=None)
    assert delivery.id is not None
    for attempt in range(2, jobs.MAX_ATTEMPTS + 1):
        if attempt < jobs.MAX_ATTEMPTS:
            with pytest.raises(jobs.DeliveryFailed):
                jobs.deliver_webhook(delivery.id)
        else:
            jobs.deliver_webhook(delivery.id)  # the last attempt gives up quietly
    [delivery] = _deliveries(container)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == jobs.MAX_ATTEMPTS
    assert len(receiver.requests) == jobs.MAX_ATTEMPTS
    jobs.deliver_webhook(delivery.id)  # a late duplicate job does nothing
    assert len(receiver.requests) == jobs.MAX_ATTEMPTS


def test_a_success_after_failures_is_delivered(admin: Caller, receiver: Receiver, container: Container) -> None:
    _subscribe(admin)
    receiver.statuses = [503, 200]
    admin.post("/members", json={"phone": "0712000905", "name": "Recovers"})
    [delivery] = _deliveries(container)
    assert delivery.id is not None
    jobs.deliver_webhook(delivery.id)
    [delivery] = _deliveries(container)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_network_errors_are_retried(admin: Caller, receiver: Receiver, container: Container) -> None:
    _subscribe(admin)
    receiver.error = httpx.ConnectTimeout("timed out")
    admin.post("/members", json={"phone": "0712000906", "name": "Unreachable"})
    [delivery] = _deliveries(container)
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
    assert delivery.last_error is not None and delivery.last_error.startswith("ConnectTimeout")


class RecordingQueue:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], Any]] = []

    def enqueue(self, func: Any, *args: Any, delay: float = 0, retry: Any = None, job_id: Any = None) -> None:
        self.calls.append((func.__name__, args, retry))

    def enqueue_many(self, calls: Any) -> None:
        raise AssertionError("not used")


def test_jobs_are_queued_after_commit_with_the_retry_policy(admin: Caller, container: Container) -> None:
    _subscribe(admin)
    queue = RecordingQueue()
    container.queue = queue
    admin.post("/members", json={"phone": "0712000907", "name": "Queued"})
    [delivery] = _deliveries(container)
    assert queue.calls == [("deliver_webhook", (delivery.id,), jobs.RETRY)]
    assert jobs.RETRY.max == jobs.MAX_ATTEMPTS - 1 and list(jobs.RETRY.intervals) == [30, 120, 600, 1800, 7200]


def test_nothing_is_sent_for_a_rolled_back_change(
    admin: Caller, receiver: Receiver, container: Container, clock: FixedClock
) -> None:
    _subscribe(admin)
    with UnitOfWork(container.db) as uow:
        webhooks.emit(uow, 1, "member.created", {"id": 1}, clock.now())
    assert receiver.requests == [] and _deliveries(container) == []


def test_replay_sends_the_same_event_again(admin: Caller, receiver: Receiver, container: Container) -> None:
    hook = _subscribe(admin)
    receiver.statuses = [500]
    admin.post("/members", json={"phone": "0712000908", "name": "Replayed"})
    log = admin.get(f"/webhooks/{hook['id']}/deliveries").json()["data"]
    assert [d["status"] for d in log] == ["pending"]
    replayed = admin.post(f"/webhook-deliveries/{log[0]['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["event_id"] == log[0]["event_id"] and replayed.json()["replay_of"] == log[0]["id"]
    assert len(receiver.requests) == 2 and receiver.requests[0].content == receiver.requests[1].content
    detail = admin.get(f"/webhook-deliveries/{replayed.json()['id']}").json()
    assert detail["status"] == "delivered" and json.loads(detail["payload"])["type"] == "member.created"
    delivered = admin.get(f"/webhooks/{hook['id']}/deliveries?status=delivered").json()["data"]
    assert [d["id"] for d in delivered] == [replayed.json()["id"]]


def test_replay_of_a_paused_subscription_is_409(admin: Caller, receiver: Receiver) -> None:
    hook = _subscribe(admin)
    admin.post("/members", json={"phone": "0712000909", "name": "Then Paused"})
    delivery_id = admin.get(f"/webhooks/{hook['id']}/deliveries").json()["data"][0]["id"]
    admin.patch(f"/webhooks/{hook['id']}", json={"active": False})
    assert admin.post(f"/webhook-deliveries/{delivery_id}/replay").status_code == 409


def _payment(container: Container, state: PaymentState) -> int:
    with UnitOfWork(container.db) as uow:
        payment = Payment(
            org_id=1,
            member_id=1,
            purpose=PaymentPurpose.CONTRIBUTION,
            subject="2026-11",
            amount=50_000,
            phone="+254700000001",
            account_reference="M00001",
            idempotency_key=f"test-{state}",
            callback_token=f"token-{state}",
            state=state,
            mpesa_receipt="SKL123ABC" if state == PaymentState.PAID else None,
        )
        uow.session.add(payment)
        uow.commit()
        assert payment.id is not None
        return payment.id


@pytest.mark.parametrize(
    ("state", "event"), [(PaymentState.PAID, "payment.succeeded"), (PaymentState.TIMEOUT, "payment.failed")]
)
def test_settled_payments_become_webhooks_once(
    admin: Caller, receiver: Receiver, container: Container, state: PaymentState, event: str
) -> None:
    _subscribe(admin)
    payment_id = _payment(container, state)
    settled = events.PaymentSettled(
        payment_id=payment_id,
        org_id=1,
        member_id=1,
        state=str(state),
        amount=50_000,
        purpose="contribution",
        subject=None,
    )
    events.publish(settled)
    events.publish(settled)  # a duplicate notice must not announce twice
    assert [b["type"] for b in receiver.bodies()] == [event]
    data = receiver.bodies()[0]["data"]
    assert data["id"] == payment_id and data["amount"] == 50_000 and data["currency"] == "KES"


def test_open_payments_are_not_announced(admin: Caller, receiver: Receiver, container: Container) -> None:
    _subscribe(admin)
    payment_id = _payment(container, PaymentState.PENDING)
    jobs.emit_payment_event(payment_id)
    assert receiver.requests == []


def test_sweep_requeues_lost_deliveries(
    admin: Caller, receiver: Receiver, container: Container, clock: FixedClock
) -> None:
    _subscribe(admin)
    receiver.statuses = [500]
    admin.post("/members", json={"phone": "0712000910", "name": "Lost Job"})
    assert jobs.sweep_webhooks() == 0  # not overdue yet
    clock.advance(hours=1)
    assert jobs.sweep_webhooks() == 1
    assert [d.status for d in _deliveries(container)] == [DeliveryStatus.DELIVERED]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://erp.example/hook", "events": ["*"]}, "url"),
        ({"url": "ftp://erp.example/hook", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@erp.example/hook", "events": ["*"]}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data", "events": ["*"]}, "url"),
        ({"url": "https://10.0.0.7/hook", "events": ["*"]}, "url"),
        ({"url": "https://[fd00::1]/hook", "events": ["*"]}, "url"),
        ({"url": "https://erp.example/hook", "events": ["member.exploded"]}, "events"),
        ({"url": "https://erp.example/hook", "events": []}, "events"),
        ({"url": "https://erp.example/hook"}, "events"),
    ],
)
def test_bad_subscriptions_are_422(admin: Caller, body: dict[str, Any], field: str) -> None:
    response = admin.post("/webhooks", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_plain_http_is_allowed_to_localhost(admin: Caller) -> None:
    hook = _subscribe(admin, url="http://127.0.0.1:9000/hook", events=["*"])
    assert hook["events"] == ["*"] and hook["secret"].startswith("whsec_")
    assert "secret" not in admin.get(f"/webhooks/{hook['id']}").json()


def test_a_paid_collection_is_announced(admin: Caller, receiver: Receiver, container: Container) -> None:
    _subscribe(admin, events=["collection.paid", "payment.succeeded"])
    collection = admin.post("/collections", json={"agent_id": 2, "amount": 50_000, "due_date": "2026-11-25"}).json()
    with UnitOfWork(container.db) as uow:
        payment = Payment(
            org_id=1,
            member_id=2,
            purpose=PaymentPurpose.COLLECTION,
            subject=str(collection["id"]),
            amount=50_000,
            phone="+254700000002",
            account_reference=collection["reference"],
            idempotency_key="collection-pay",
            callback_token="collection-token",
            state=PaymentState.PAID,
        )
        uow.session.add(payment)
        uow.flush()
        found = uow.session.get(Collection, collection["id"])
        assert found is not None
        found.status, found.paid_payment_id = CollectionStatus.PAID, payment.id
        uow.commit()
    assert payment.id is not None
    jobs.emit_payment_event(payment.id)
    jobs.emit_payment_event(payment.id)
    assert [b["type"] for b in receiver.bodies()] == ["payment.succeeded", "collection.paid"]
    assert receiver.bodies()[1]["data"]["reference"] == collection["reference"]


def test_a_savepoint_inside_the_transaction_does_not_send_early(
    admin: Caller, receiver: Receiver, container: Container, clock: FixedClock
) -> None:
    """ledger.account() releases a savepoint, which fires the session's commit events too."""
    _subscribe(admin)
    with UnitOfWork(container.db) as uow:
        webhooks.emit(uow, 1, "member.created", {"id": 3}, clock.now())
        ledger.account(uow, 1, AccountKind.SHARES, member_id=3)  # a new account: savepoint released
        assert receiver.requests == []
        uow.commit()
    assert len(receiver.requests) == 1
    assert [d.status for d in _deliveries(container)] == [DeliveryStatus.DELIVERED]


def test_a_settlement_announced_before_its_commit_is_retried(admin: Caller, container: Container) -> None:
    payment_id = _payment(container, PaymentState.PENDING)
    with pytest.raises(jobs.NotSettledYet):
        jobs.emit_payment_event(payment_id, "paid")
    jobs.emit_payment_event(payment_id, None)  # nothing announced, nothing final: quietly nothing
