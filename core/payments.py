"""M-Pesa STK payments before settlement: start one, claim its push, record what the push said.

The lifecycle (docs/payments.md): a payment row is written before any push (CREATED, with its
own idempotency key and unguessable callback token); one push job claims it and pushes; the
push's answer makes it PENDING (or UNKNOWN when the answer was lost, which is never re-pushed);
then :func:`core.settlement.settle` moves it, exactly once, to its final state.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from core import ledger, money, phones
from core.errors import Conflict, Invalid, NotFound
from core.payment_purposes import handler_for
from core.tables import (
    OPEN_STATES,
    AccountKind,
    Member,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentState,
)
from core.uow import UnitOfWork

OPEN_WINDOW = timedelta(minutes=3)
"""A payment still open and younger than this blocks a new one for the same member or phone:
its prompt may still be on the phone. M-Pesa drops an unanswered prompt after about a minute,
so an older open payment no longer stands in the way (it still settles when M-Pesa tells us)."""

PUSH_MAX_AGE = timedelta(minutes=2)
"""A push job never pushes a payment older than this: the member has long stopped waiting."""

STALE_AFTER = timedelta(minutes=10)
"""Reconciliation treats a CREATED payment this old as abandoned (well past ``PUSH_MAX_AGE``)."""

_MPESA_MOBILE = re.compile(r"\+254(7\d{8}|1\d{8})")


class PaymentInProgress(Conflict):
    """The member (or payer phone) already has a payment waiting on the phone."""

    code = "payment_in_progress"

    def __init__(self, payment_id: int) -> None:
        super().__init__("a payment is already waiting for the M-Pesa PIN", field="payment")
        self.payment_id = payment_id


def mpesa_phone(raw: str) -> str:
    """The E.164 form of an M-Pesa (Safaricom Kenya) mobile number.

    Raises:
        Invalid: with ``field="phone"``.
    """
    e164 = phones.normalise(raw)
    if not _MPESA_MOBILE.fullmatch(e164):
        raise Invalid("M-Pesa needs a Kenyan mobile number (07... or 01...)", field="phone")
    return e164


def check_amount(org: Organisation, amount: int) -> None:
    """Whole currency units within the organisation's limits.

    Raises:
        Invalid: with ``field="amount"``.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Invalid("amount must be an integer of minor units", field="amount")
    if amount <= 0 or amount % money.minor_per_unit(org.currency):
        raise Invalid("M-Pesa takes whole amounts only", field="amount")
    if amount < org.min_payment:
        raise Invalid(f"the least is {money.format_amount(org.min_payment, org.currency)}", field="amount")
    if amount > org.max_payment:
        raise Invalid(f"the most is {money.format_amount(org.max_payment, org.currency)}", field="amount")


def open_payment(
    uow: UnitOfWork, org_id: int, phone: str, now: datetime, member_id: int | None = None
) -> Payment | None:
    """The phone's (or member's) payment that may still be on the phone, if any."""
    who = Payment.phone == phone
    if member_id is not None:
        who = who | (Payment.member_id == member_id)
    query = (
        select(Payment)
        .where(
            Payment.org_id == org_id,
            col(Payment.state).in_(OPEN_STATES),
            col(Payment.needs_review).is_(False),  # held for an operator: no prompt is waiting
            Payment.created_at >= now - OPEN_WINDOW,
            who,
        )
        .order_by(col(Payment.id).desc())
    )
    return uow.session.exec(query).first()


def start_payment(
    uow: UnitOfWork,
    org: Organisation,
    member: Member,
    *,
    purpose: PaymentPurpose,
    amount: int,
    idempotency_key: str,
    now: datetime,
    subject: str | None = None,
    phone: str | None = None,
    account_reference: str | None = None,
) -> Payment:
    """Write a CREATED payment, before any push. The caller commits, then queues the push.

    The same ``idempotency_key`` returns the payment it created the first time.

    Raises:
        Invalid: bad amount, phone, purpose or key (``field`` names it).
        Conflict: the key was used for a different payment.
        PaymentInProgress: the member or phone has a payment that may still be on the phone.
    """
    assert org.id is not None and member.id is not None
    key = (idempotency_key or "").strip()
    if not key or len(key) > 120:
        raise Invalid("an idempotency key of 1 to 120 characters", field="idempotency_key")
    try:
        handler_for(purpose)
    except LookupError:
        raise Invalid(f"payments for {purpose} are not available", field="purpose") from None
    existing = uow.session.exec(select(Payment).where(Payment.idempotency_key == key)).first()
    if existing is not None:
        if (existing.org_id, existing.member_id, existing.amount, existing.purpose) != (
            org.id,
            member.id,
            amount,
            purpose,
        ):
            raise Conflict("that idempotency key belongs to another payment", field="idempotency_key")
        return existing
    check_amount(org, amount)
    payer = mpesa_phone(phone or member.phone)
    # Serialise starts per member on PostgreSQL (a no-op on SQLite, where writers queue anyway).
    uow.session.exec(select(Member.id).where(Member.id == member.id).with_for_update()).first()
    # An agent may take several customers' sale payments at once; anyone else, one at a time.
    mine = None if purpose == PaymentPurpose.SALE else member.id
    waiting = open_payment(uow, org.id, payer, now, member_id=mine)
    if waiting is not None and waiting.id is not None:
        raise PaymentInProgress(waiting.id)
    # Created up front: concurrent first settlements would otherwise race to create it.
    ledger.account(uow, org.id, AccountKind.MPESA_CLEARING)
    payment = Payment(
        org_id=org.id,
        member_id=member.id,
        purpose=purpose,
        subject=subject,
        amount=amount,
        phone=payer,
        account_reference=(account_reference or member.member_no or org.slug)[:12],
        idempotency_key=key,
        callback_token=secrets.token_urlsafe(32),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(payment)
    uow.session.flush()
    return payment


def get_payment(uow: UnitOfWork, payment_id: int) -> Payment:
    payment = uow.session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise NotFound("no such payment", field="payment_id")
    return payment


def by_token(uow: UnitOfWork, token: str) -> Payment | None:
    if not token or len(token) > 64:
        return None
    return uow.session.exec(select(Payment).where(Payment.callback_token == token)).first()


def by_checkout_id(uow: UnitOfWork, checkout_request_id: str) -> Payment | None:
    query = select(Payment).where(Payment.checkout_request_id == checkout_request_id)
    return uow.session.exec(query).first()


def _changed(uow: UnitOfWork, payment_id: int, *conditions: object, **values: object) -> bool:
    """One conditional UPDATE; True when it changed the row (the compare-and-set won)."""
    statement = (
        update(Payment)
        .where(col(Payment.id) == payment_id, *conditions)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return uow.session.exec(statement).rowcount == 1


def claim_push(uow: UnitOfWork, payment_id: int, now: datetime) -> bool:
    """Claim the right to push: only one claim ever wins, and only for a fresh CREATED payment."""
    return _changed(
        uow,
        payment_id,
        Payment.state == PaymentState.CREATED,
        col(Payment.push_started_at).is_(None),
        Payment.created_at >= now - PUSH_MAX_AGE,
        push_started_at=now,
        updated_at=now,
    )


def release_push(uow: UnitOfWork, payment_id: int, now: datetime) -> bool:
    """Give the claim back after a push that certainly did not reach M-Pesa, so a retry may push."""
    return _changed(uow, payment_id, Payment.state == PaymentState.CREATED, push_started_at=None, updated_at=now)


def record_push_accepted(
    uow: UnitOfWork, payment_id: int, *, merchant_request_id: str, checkout_request_id: str, now: datetime
) -> bool:
    """M-Pesa accepted the push: CREATED -> PENDING with its ids. False if a callback settled it first.

    The ids are stored either way (unless a callback already stored them).
    """
    moved = _changed(
        uow,
        payment_id,
        Payment.state == PaymentState.CREATED,
        state=PaymentState.PENDING,
        merchant_request_id=merchant_request_id,
        checkout_request_id=checkout_request_id,
        updated_at=now,
    )
    if not moved:
        _changed(
            uow,
            payment_id,
            col(Payment.checkout_request_id).is_(None),
            merchant_request_id=merchant_request_id,
            checkout_request_id=checkout_request_id,
            updated_at=now,
        )
    return moved


def record_push_unknown(uow: UnitOfWork, payment_id: int, *, reason: str, now: datetime) -> bool:
    """The push went out but its answer was lost: CREATED -> UNKNOWN. Never pushed again.

    The callback (its token is in the URL) or an operator settles it later.
    """
    return _changed(
        uow,
        payment_id,
        Payment.state == PaymentState.CREATED,
        state=PaymentState.UNKNOWN,
        result_desc=reason[:200],
        updated_at=now,
    )


def awaiting_answer(uow: UnitOfWork, *, older_than: datetime, limit: int = 500) -> Sequence[Payment]:
    """Open payments created before ``older_than`` and not held for review, oldest first."""
    query = (
        select(Payment)
        .where(
            col(Payment.state).in_(OPEN_STATES),
            Payment.created_at < older_than,
            col(Payment.needs_review).is_(False),
        )
        .order_by(col(Payment.created_at))
        .limit(limit)
    )
    return uow.session.exec(query).all()


def for_review(uow: UnitOfWork, org_id: int | None = None, limit: int = 200) -> Sequence[Payment]:
    """Payments an operator should look at, oldest first."""
    query = select(Payment).where(col(Payment.needs_review).is_(True))
    if org_id is not None:
        query = query.where(Payment.org_id == org_id)
    return uow.session.exec(query.order_by(col(Payment.created_at)).limit(limit)).all()
