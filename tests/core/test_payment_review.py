"""Operators resolving held payments, and status checks through the gateway port."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine as DbEngine

from core.clock import FixedClock
from core.errors import Conflict, Invalid, NotFound
from core.payment_review import resolve
from core.payment_status import check_status
from core.ports import QueryAnswer
from core.settlement import settle
from core.tables import PaymentPurpose, PaymentState
from tests.core.payments_support import UNAVAILABLE, FakeGateway, World, checkout_of, paid, world


@pytest.fixture
def w(db: DbEngine, clock: FixedClock) -> World:
    return world(db, clock)


def _held(w: World) -> int:
    payment = w.pending(444_200, PaymentPurpose.LOAN_REPAYMENT)
    with w.uow() as uow:
        settle(uow, paid(payment, phone="+254711000111"), now=w.now, payment_id=payment.id)
        uow.commit()
    assert payment.id is not None
    return payment.id


def test_credit_a_held_payment(w: World) -> None:
    payment_id = _held(w)
    with w.uow() as uow:
        resolved = resolve(uow, w.org.id or 0, payment_id, action="credit", note="paid by her husband", now=w.now)
        uow.commit()
    assert (resolved.state, resolved.needs_review, resolved.reviewed_at is not None) == (PaymentState.PAID, False, True)
    assert w.loan_repaid() == 444_200
    assert w.trial_balance() == 0
    with w.uow() as uow, pytest.raises(Conflict):
        resolve(uow, w.org.id or 0, payment_id, action="credit", note="again", now=w.now)


def test_dismiss_a_held_payment(w: World) -> None:
    payment_id = _held(w)
    with w.uow() as uow:
        resolved = resolve(uow, w.org.id or 0, payment_id, action="dismiss", note="refunded by M-Pesa", now=w.now)
        uow.commit()
    assert (resolved.state, resolved.needs_review) == (PaymentState.FAILED, False)
    assert w.loan_repaid() == 0


def test_resolve_refuses_bad_requests(w: World) -> None:
    payment_id = _held(w)
    with w.uow() as uow:
        with pytest.raises(Invalid):
            resolve(uow, w.org.id or 0, payment_id, action="credit", note="  ", now=w.now)
        with pytest.raises(Invalid):
            resolve(uow, w.org.id or 0, payment_id, action="refund", note="x", now=w.now)
        with pytest.raises(NotFound):
            resolve(uow, (w.org.id or 0) + 1, payment_id, action="credit", note="x", now=w.now)
    fine = w.pending()
    with w.uow() as uow, pytest.raises(Conflict):
        resolve(uow, w.org.id or 0, fine.id or 0, action="credit", note="x", now=w.now)


def test_status_checks(w: World) -> None:
    gateway = FakeGateway()
    payment = w.pending()
    pid = payment.id or 0
    assert check_status(w.uow, gateway, pid, w.now).action == "pending"
    gateway.answers[checkout_of(payment)] = UNAVAILABLE
    assert check_status(w.uow, gateway, pid, w.now).action == "query_failed"
    gateway.answers[checkout_of(payment)] = QueryAnswer(PaymentState.PAID, 0, "ok")
    check = check_status(w.uow, gateway, pid, w.now)
    assert (check.action, check.before, check.after) == ("settled", "pending", "paid")
    assert check_status(w.uow, gateway, pid, w.now).action == "already_settled"
    assert len(gateway.queries) == 3


def test_a_callback_credit_is_confirmed_once_by_query(w: World) -> None:
    gateway = FakeGateway()
    payment = w.pending()
    with w.uow() as uow:
        settle(uow, paid(payment), now=w.now, payment_id=payment.id)
        uow.commit()
    gateway.answers[checkout_of(payment)] = QueryAnswer(PaymentState.PAID, 0, "ok")
    assert check_status(w.uow, gateway, payment.id or 0, w.now).action == "confirmed"
    assert check_status(w.uow, gateway, payment.id or 0, w.now).action == "already_settled"
    assert len(gateway.queries) == 1


def test_unknown_without_a_checkout_id_cannot_be_queried(w: World) -> None:
    from core import payments

    payment = w.start()
    with w.uow() as uow:
        payments.claim_push(uow, payment.id or 0, w.now)
        payments.record_push_unknown(uow, payment.id or 0, reason="lost", now=w.now)
        uow.commit()
    assert check_status(w.uow, FakeGateway(), payment.id or 0, w.now).action == "no_checkout_id"
