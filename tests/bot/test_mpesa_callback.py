"""``POST /payments/mpesa/callback/{token}``: real payload shapes, failure codes, bad input, the allowlist.

Whatever arrives, the answer is 200 ``Accepted`` (403 only for a refused source IP), and a
payment is credited at most once.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core import ledger
from core.tables import AccountKind, Member, Organisation, PaymentPurpose, PaymentState
from core.uow import UnitOfWork
from tests.bot.mpesa_support import (
    RecordingNotifier,
    callback_body,
    gateway,
    latest_payment,
    notices,
    payload,
    payment_by_id,
    post_callback,
)
from tests.core.payments_support import FakeGateway

__all__ = ["gateway", "notices"]

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)
"""Payload shapes and input checks do not depend on the database; they run on SQLite only."""
SAMPLE_PHONE = "+254708374149"
SAMPLE_CHECKOUT = "ws_CO_191220191020363925"


def _start(container: Container, amount: int = 100_000, phone: str | None = None, key: str = "k") -> int:
    with UnitOfWork(container.db) as uow:
        member = uow.session.exec(select(Member).where(Member.phone == "+254700000001")).one()
    payments = container.services["payments"]
    return int(
        payments.start(
            org_id=member.org_id,
            member_id=member.id,
            purpose=PaymentPurpose.CONTRIBUTION,
            amount=amount,
            subject="2026-11",
            idempotency_key=key,
            phone=phone,
        )
    )


def _savings(container: Container) -> int:
    with UnitOfWork(container.db) as uow:
        member = uow.session.exec(select(Member).where(Member.phone == "+254700000001")).one()
        return ledger.balance(uow, ledger.find_account(uow, member.org_id, AccountKind.SAVINGS, member.id))


@pytest.fixture
def sample_payment(container: Container, demo_org: Organisation, gateway: FakeGateway) -> int:
    """A KES 1 payment from the Daraja sample's phone, pushed with the sample's CheckoutRequestID."""
    with UnitOfWork(container.db) as uow:
        org = uow.session.get(Organisation, demo_org.id)
        assert org is not None
        org.min_payment = 100
        uow.session.add(org)
        uow.commit()
    gateway.next_checkout = SAMPLE_CHECKOUT
    return _start(container, amount=100, phone=SAMPLE_PHONE)


def test_the_daraja_sample_success_callback_credits_unchanged(
    client: TestClient, container: Container, sample_payment: int, notices: RecordingNotifier
) -> None:
    before = _savings(container)
    payment = payment_by_id(container, sample_payment)
    body = (json.dumps(payload("mpesa_stk_callback_success.json"))).encode()
    response = post_callback(client, payment.callback_token, body)
    assert response.status_code == 200 and response.json() == ACCEPTED
    settled = payment_by_id(container, sample_payment)
    assert (settled.state, settled.mpesa_receipt, settled.paid_amount, settled.paid_phone) == (
        PaymentState.PAID,
        "NLJ7RT61SV",
        100,
        SAMPLE_PHONE,
    )
    assert settled.merchant_request_id == "m-fake-1"
    assert _savings(container) == before + 100
    assert len(notices.sent) == 1


@embedded_only
@pytest.mark.parametrize(
    ("name", "state", "code"),
    [
        ("mpesa_stk_callback_cancelled.json", PaymentState.CANCELLED, 1032),
        ("constructed_callback_1032_string_code.json", PaymentState.CANCELLED, 1032),
        ("constructed_callback_insufficient_funds.json", PaymentState.FAILED, 1),
        ("constructed_callback_wrong_pin.json", PaymentState.FAILED, 2001),
        ("constructed_callback_timeout.json", PaymentState.TIMEOUT, 1037),
        ("constructed_callback_1036.json", PaymentState.FAILED, 1036),
    ],
)
def test_failure_payloads_settle_by_result_code(
    client: TestClient, container: Container, sample_payment: int, name: str, state: PaymentState, code: int
) -> None:
    body = payload(name)
    body["Body"]["stkCallback"]["CheckoutRequestID"] = SAMPLE_CHECKOUT
    payment = payment_by_id(container, sample_payment)
    assert post_callback(client, payment.callback_token, body).json() == ACCEPTED
    settled = payment_by_id(container, sample_payment)
    assert (settled.state, settled.result_code) == (state, code)
    assert settled.ledger_transaction_id is None


@embedded_only
@pytest.mark.parametrize(
    "name",
    [
        "constructed_callback_int_amount_balance_without_value.json",
        "constructed_callback_items_reordered.json",
        "constructed_callback_string_numbers.json",
    ],
)
def test_success_shapes_seen_in_the_wild_credit(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway, name: str
) -> None:
    body = payload(name)
    callback = body["Body"]["stkCallback"]
    items = {item["Name"]: item.get("Value") for item in callback["CallbackMetadata"]["Item"]}
    amount = int(float(items["Amount"]) * 100)
    with UnitOfWork(container.db) as uow:
        org = uow.session.get(Organisation, demo_org.id)
        assert org is not None
        org.min_payment = 100
        uow.session.add(org)
        uow.commit()
    gateway.next_checkout = callback["CheckoutRequestID"]
    payment_id = _start(container, amount=amount, phone="+" + str(items["PhoneNumber"]))
    payment = payment_by_id(container, payment_id)
    assert post_callback(client, payment.callback_token, body).json() == ACCEPTED
    settled = payment_by_id(container, payment_id)
    assert settled.state == PaymentState.PAID and settled.mpesa_receipt == str(items["MpesaReceiptNumber"])


def test_a_different_amount_is_held_for_review_and_the_member_told(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway, notices: RecordingNotifier
) -> None:
    before = _savings(container)
    payment = payment_by_id(container, _start(container))
    post_callback(client, payment.callback_token, callback_body(payment, amount=10))
    held = payment_by_id(container, payment.id or 0)
    assert (held.state, held.needs_review, held.review_reason) == (PaymentState.UNKNOWN, True, "amount_mismatch")
    assert _savings(container) == before
    assert notices.texts() == [
        f"Demo SACCO: We received KES 10 (M-Pesa SBX{payment.id:07d}). The office is checking it and will "
        "credit you. Please do not pay again."
    ]


@embedded_only
@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"Body": {}}', b'{"Body": {"stkCallback": {"ResultCode": 0}}}', b"\xff\xfe"],
)
def test_unreadable_callbacks_get_200_and_change_nothing(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway, body: bytes
) -> None:
    payment = payment_by_id(container, _start(container))
    assert post_callback(client, payment.callback_token, body).json() == ACCEPTED
    assert payment_by_id(container, payment.id or 0).state == PaymentState.PENDING


def test_unknown_token_gets_200_and_a_log_line_without_the_token(
    client: TestClient,
    container: Container,
    demo_org: Organisation,
    gateway: FakeGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payment = payment_by_id(container, _start(container))
    with caplog.at_level(logging.INFO):
        response = post_callback(client, "x" * 43, callback_body(payment))
    assert response.status_code == 200 and response.json() == ACCEPTED
    assert payment_by_id(container, payment.id or 0).state == PaymentState.PENDING
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("bot", "core")))
    assert "unknown token" in ours and "x" * 43 not in ours
    assert post_callback(client, "y" * 500, callback_body(payment)).status_code == 200


def test_callback_to_another_payments_token_is_not_credited(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway
) -> None:
    first = payment_by_id(container, _start(container))
    post_callback(client, first.callback_token, callback_body(first, 1032))
    second = payment_by_id(container, _start(container, key="k2"))
    # A success carrying the second push's ids, posted to the first payment's URL.
    post_callback(client, first.callback_token, callback_body(second))
    assert payment_by_id(container, first.id or 0).state == PaymentState.CANCELLED
    assert payment_by_id(container, second.id or 0).state == PaymentState.PENDING


@embedded_only
def test_allowlist_refuses_other_sources_and_changes_nothing(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway
) -> None:
    payment = payment_by_id(container, _start(container))
    container.settings.mpesa_callback_allowlist = "196.201.214.0/24, 196.201.213.44"
    refused = post_callback(client, payment.callback_token, callback_body(payment))
    assert refused.status_code == 403
    assert payment_by_id(container, payment.id or 0).state == PaymentState.PENDING
    container.settings.mpesa_callback_allowlist = "testclient, 10.0.0.0/8"  # a bad entry is logged, not fatal
    assert post_callback(client, payment.callback_token, callback_body(payment)).status_code == 403


def test_access_log_lines_hide_callback_tokens() -> None:
    from bot.routes.mpesa import redact_tokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "POST", "/payments/mpesa/callback/s3cr3tT0ken?x=1", "1.1", 200),
        None,
    )
    assert redact_tokens.filter(record)
    assert "s3cr3tT0ken" not in record.getMessage()
    assert (
        "/payments/mpesa/callback/*** " in record.getMessage() or "/payments/mpesa/callback/***?" in record.getMessage()
    )


def test_allowlist_admits_listed_sources() -> None:
    from bot.routes.mpesa import allowed

    assert allowed("", None)
    assert allowed("196.201.214.0/24", "196.201.214.200")
    assert allowed("196.201.213.44, 196.201.214.0/24", "196.201.213.44")
    assert not allowed("196.201.214.0/24", "196.201.215.1")
    assert not allowed("196.201.214.0/24", "testclient")
    assert not allowed("nonsense", "196.201.214.1")


@embedded_only
def test_a_settlement_error_still_answers_200(
    client: TestClient,
    container: Container,
    demo_org: Organisation,
    gateway: FakeGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = payment_by_id(container, _start(container))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("bot.routes.mpesa.settle", broken)
    assert post_callback(client, payment.callback_token, callback_body(payment)).json() == ACCEPTED
    assert payment_by_id(container, payment.id or 0).state == PaymentState.PENDING


def test_callback_before_the_push_response_credits_once(
    client: TestClient, container: Container, demo_org: Organisation, gateway: FakeGateway
) -> None:
    """Daraja's callback lands while our push job still waits for the push's HTTP answer."""
    before = _savings(container)
    real_push = gateway.stk_push

    def push_then_callback_first(**push: object) -> object:
        payment = latest_payment(container)
        early = callback_body(payment)
        early["Body"]["stkCallback"]["CheckoutRequestID"] = "ws_CO_FAKE000001"
        assert post_callback(client, str(push["callback_token"]), early).json() == ACCEPTED
        return real_push(**push)  # type: ignore[arg-type]

    gateway.stk_push = push_then_callback_first  # type: ignore[method-assign]
    payment_id = _start(container)
    settled = payment_by_id(container, payment_id)
    assert settled.state == PaymentState.PAID
    assert settled.checkout_request_id == "ws_CO_FAKE000001"
    assert settled.merchant_request_id == "29115-34620561-1"
    assert _savings(container) == before + 100_000
