"""M-Pesa payments: list and filter, ask M-Pesa again (status query), resolve ones held for review, export."""

from __future__ import annotations

from functools import partial
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from admin_api.operations import Call, Raw, op
from admin_api.pagination import paginate
from admin_api.reports import CSV, to_csv
from admin_api.schemas import Amount, CreatedRange, Id, Input, Money, Page, PageQuery, Str, Utc
from core import payment_review
from core.clock import as_utc
from core.errors import Conflict, NotFound
from core.tables import Payment, PaymentPurpose, PaymentState

TAG = "payments"


class PaymentOut(BaseModel):
    id: int
    member_id: int = Field(description="Who it is for (for sales and collections: the agent).")
    purpose: PaymentPurpose
    subject: str | None = Field(description="What it pays: loan id, contribution cycle, collection id, sale id.")
    state: PaymentState
    amount: Money
    paid_amount: Money | None = Field(description="What M-Pesa reported paid, when it said.")
    phone: str = Field(description="The payer's M-Pesa number, E.164.")
    account_reference: str
    mpesa_receipt: str | None
    result_code: int | None
    result_desc: str | None
    needs_review: bool
    review_reason: str | None
    review_note: str | None
    reviewed_at: Utc | None
    created_at: Utc
    settled_at: Utc | None
    confirmed_at: Utc | None


class PaymentFilters(CreatedRange):
    state: PaymentState | None = None
    purpose: PaymentPurpose | None = None
    member_id: Id | None = None
    needs_review: bool | None = None


class PaymentQuery(PaymentFilters, PageQuery):
    pass


class ReviewIn(Input):
    action: Literal["credit", "dismiss"] = Field(
        description="credit: the money is real (checked on the M-Pesa statement); dismiss: nothing to credit."
    )
    note: Str = Field(min_length=1, max_length=200, description="What you checked.")
    amount: Amount | None = Field(default=None, description="To credit; default: what M-Pesa reported, or asked.")


def payment_out(call: Call, payment: Payment) -> PaymentOut:
    assert payment.id is not None
    return PaymentOut(
        id=payment.id,
        member_id=payment.member_id,
        purpose=payment.purpose,
        subject=payment.subject,
        state=payment.state,
        amount=call.money(payment.amount),
        paid_amount=None if payment.paid_amount is None else call.money(payment.paid_amount),
        phone=payment.phone,
        account_reference=payment.account_reference,
        mpesa_receipt=payment.mpesa_receipt,
        result_code=payment.result_code,
        result_desc=payment.result_desc,
        needs_review=payment.needs_review,
        review_reason=payment.review_reason,
        review_note=payment.review_note,
        reviewed_at=payment.reviewed_at,
        created_at=payment.created_at,
        settled_at=payment.settled_at,
        confirmed_at=payment.confirmed_at,
    )


def _payment(call: Call) -> Payment:
    payment = call.uow.session.get(Payment, call.params["payment_id"])
    if payment is None or payment.org_id != call.org_id:
        raise NotFound("no such payment", field="payment_id")
    return payment


def _filtered(call: Call, q: PaymentFilters) -> SelectOfScalar[Payment]:
    query = select(Payment).where(Payment.org_id == call.org_id)
    if q.state is not None:
        query = query.where(Payment.state == q.state)
    if q.purpose is not None:
        query = query.where(Payment.purpose == q.purpose)
    if q.member_id is not None:
        query = query.where(Payment.member_id == q.member_id)
    if q.needs_review is not None:
        query = query.where(col(Payment.needs_review).is_(q.needs_review))
    return q.within(query, col(Payment.created_at))


@op(
    "GET",
    "/payments",
    "payments.list",
    "List payments, newest first; filter by state, purpose, member, review",
    tag=TAG,
    scope="payments:read",
    query=PaymentQuery,
    response=Page[PaymentOut],
)
def list_payments(call: Call) -> Page[PaymentOut]:
    q: PaymentQuery = call.query
    return paginate(
        call.uow, _filtered(call, q), Payment.id, limit=q.limit, cursor=q.cursor, convert=partial(payment_out, call)
    )


@op("GET", "/payments/{payment_id}", "payments.get", "One payment", tag=TAG, scope="payments:read", response=PaymentOut)
def get_payment(call: Call) -> PaymentOut:
    return payment_out(call, _payment(call))


@op(
    "POST",
    "/payments/{payment_id}/query",
    "payments.query",
    "Ask M-Pesa again how the payment ended (a status query, in the background)",
    tag=TAG,
    scope="payments:write",
    response=PaymentOut,
    status=202,
)
def query_payment(call: Call) -> PaymentOut:
    payment = _payment(call)
    if payment.state not in (PaymentState.PENDING, PaymentState.UNKNOWN, PaymentState.PAID):
        raise Conflict(f"a {payment.state} payment has nothing more to ask M-Pesa", field="payment_id")
    if not payment.checkout_request_id:
        raise Conflict("M-Pesa never accepted this push; there is nothing to query", field="payment_id")
    query = call.jobs.query_payment
    if query is None:
        raise Conflict("status queries are not available here", field="payment_id")
    assert payment.id is not None
    call.after_commit.append(partial(query, payment.id))
    return payment_out(call, payment)


@op(
    "POST",
    "/payments/{payment_id}/review",
    "payments.review",
    "Resolve a payment held for review: credit it or dismiss the flag",
    tag=TAG,
    scope="payments:write",
    body=ReviewIn,
    response=PaymentOut,
    idempotent=True,
)
def review_payment(call: Call) -> PaymentOut:
    body: ReviewIn = call.body
    payment = payment_review.resolve(
        call.uow,
        call.org_id,
        call.params["payment_id"],
        action=body.action,
        note=f"{body.note.strip()} ({call.actor})",
        now=call.now(),
        amount=body.amount,
    )
    return payment_out(call, payment)


PAYMENT_COLUMNS = (
    "id",
    "created_at",
    "state",
    "purpose",
    "subject",
    "member_id",
    "amount",
    "paid_amount",
    "currency",
    "phone",
    "mpesa_receipt",
    "result_code",
    "result_desc",
    "needs_review",
    "settled_at",
)


@op(
    "GET",
    "/exports/payments.csv",
    "exports.payments",
    "Payments as CSV (same filters as the list)",
    tag=TAG,
    scope="payments:read",
    query=PaymentFilters,
    media_type=CSV,
)
def export_payments(call: Call) -> Raw:
    query = _filtered(call, call.query).order_by(col(Payment.id))
    currency = call.org.currency
    rows = (
        (
            p.id,
            as_utc(p.created_at),
            str(p.state),
            str(p.purpose),
            p.subject,
            p.member_id,
            p.amount,
            p.paid_amount,
            currency,
            p.phone,
            p.mpesa_receipt,
            p.result_code,
            p.result_desc,
            str(p.needs_review).lower(),
            as_utc(p.settled_at) if p.settled_at else None,
        )
        for p in call.uow.session.exec(query)
    )
    body = to_csv(PAYMENT_COLUMNS, rows, raw_columns=("phone", "amount", "paid_amount", "result_code"))
    return Raw(body, CSV + "; charset=utf-8", filename=f"{call.org.slug}-payments.csv")


operations = [list_payments, get_payment, query_payment, review_payment, export_payments]
