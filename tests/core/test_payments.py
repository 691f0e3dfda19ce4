"""Starting payments and recording what the push said: idempotency, limits, one waiting at a time."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine as DbEngine

from core import payments
from core.clock import FixedClock
from core.errors import Conflict, Invalid
from core.tables import PaymentPurpose, PaymentState
from tests.core.payments_support import World, checkout_of, world


@pytest.fixture
def w(db: DbEngine, clock: FixedClock) -> World:
    return world(db, clock)


def test_start_writes_a_created_payment_with_a_secret_token(w: World) -> None:
    payment = w.start(250_000)
    assert payment.state == PaymentState.CREATED
    assert payment.phone == "+254700000001"
    assert payment.amount == 250_000
    assert payment.account_reference == w.member.member_no
    assert len(payment.callback_token) >= 40
    assert payment.checkout_request_id is None


def test_same_idempotency_key_returns_the_same_payment(w: World) -> None:
    with w.uow() as uow:
        first = payments.start_payment(
            uow, w.org, w.member, purpose=PaymentPurpose.CONTRIBUTION, amount=100_000, idempotency_key="k1", now=w.now
        )
        uow.commit()
    with w.uow() as uow:
        again = payments.start_payment(
            uow, w.org, w.member, purpose=PaymentPurpose.CONTRIBUTION, amount=100_000, idempotency_key="k1", now=w.now
        )
        assert again.id == first.id
        with pytest.raises(Conflict):
            payments.start_payment(
                uow,
                w.org,
                w.member,
                purpose=PaymentPurpose.CONTRIBUTION,
                amount=200_000,
                idempotency_key="k1",
                now=w.now,
            )


@pytest.mark.parametrize(
    ("amount", "message"),
    [(50, "whole"), (100_050, "whole"), (900, "least"), (15_000_100, "most"), (0, "whole"), (-100, "whole")],
)
def test_amount_must_be_whole_and_within_the_org_limits(w: World, amount: int, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        w.start(amount)
    assert caught.value.field == "amount"
    assert message in caught.value.message


@pytest.mark.parametrize("phone", ["+255712345678", "+254201234567", "not a phone"])
def test_only_kenyan_mobile_numbers_can_pay(w: World, phone: str) -> None:
    with pytest.raises(Invalid) as caught:
        w.start(phone=phone)
    assert caught.value.field == "phone"


def test_a_second_payment_while_one_waits_is_refused(w: World) -> None:
    first = w.start()
    with pytest.raises(payments.PaymentInProgress) as caught:
        w.start(200_000)
    assert caught.value.payment_id == first.id


def test_an_old_open_payment_no_longer_blocks(w: World) -> None:
    w.start()
    w.clock.advance(minutes=4)
    assert w.start(200_000).id is not None


def test_a_settled_payment_does_not_block(w: World) -> None:
    from core.settlement import Report, settle

    first = w.start()
    with w.uow() as uow:
        settle(uow, Report(source="push", outcome=PaymentState.FAILED), now=w.now, payment_id=first.id)
        uow.commit()
    assert w.start().id != first.id


def test_only_one_claim_to_push_wins_and_only_while_fresh(w: World) -> None:
    payment = w.start()
    assert payment.id is not None
    with w.uow() as uow:
        assert payments.claim_push(uow, payment.id, w.now)
        assert not payments.claim_push(uow, payment.id, w.now)
        assert payments.release_push(uow, payment.id, w.now)
        uow.commit()
    w.clock.advance(minutes=3)
    with w.uow() as uow:
        assert not payments.claim_push(uow, payment.id, w.now)


def test_push_accepted_makes_it_pending_with_its_ids(w: World) -> None:
    payment = w.pending()
    assert payment.state == PaymentState.PENDING
    assert payment.checkout_request_id == checkout_of(payment)
    assert payment.merchant_request_id == f"m-{payment.id}"


def test_lost_push_answer_makes_it_unknown(w: World) -> None:
    payment = w.start()
    assert payment.id is not None
    with w.uow() as uow:
        assert payments.record_push_unknown(uow, payment.id, reason="read timeout", now=w.now)
        uow.commit()
    assert w.payment(payment.id).state == PaymentState.UNKNOWN
    with w.uow() as uow:  # only from CREATED
        assert not payments.record_push_unknown(uow, payment.id, reason="again", now=w.now)


def test_purpose_without_a_handler_cannot_start(w: World) -> None:
    from core import payment_purposes

    saved = dict(payment_purposes._HANDLERS)
    payment_purposes._HANDLERS.pop(PaymentPurpose.SALE, None)
    try:
        with pytest.raises(Invalid) as caught:
            w.start(purpose=PaymentPurpose.SALE, subject="1")
        assert caught.value.field == "purpose"
    finally:
        payment_purposes._HANDLERS.clear()
        payment_purposes._HANDLERS.update(saved)
