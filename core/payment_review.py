"""What an operator does with a payment held for review (see docs/payments.md, "Operators").

* ``credit``: the money is real and belongs to this payment (checked on the M-Pesa statement):
  the payment becomes PAID and the amount M-Pesa reported (or, failing that, the amount asked)
  is credited through the purpose's handler, in this transaction.
* ``dismiss``: nothing to credit here (refunded, or booked by hand elsewhere): the flag is
  cleared and a held UNKNOWN payment becomes FAILED. A PAID payment stays PAID.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col

from core import events
from core.errors import Conflict, Invalid, NotFound
from core.payment_purposes import PaidPayment, handler_for
from core.payments import _changed, get_payment
from core.settlement import settled_event
from core.tables import LedgerTransaction, Organisation, Payment, PaymentState
from core.uow import UnitOfWork

ACTIONS = ("credit", "dismiss")


def resolve(
    uow: UnitOfWork,
    org_id: int,
    payment_id: int,
    *,
    action: str,
    note: str,
    now: datetime,
    amount: int | None = None,
) -> Payment:
    """Resolve a payment held for review. The caller commits.

    Raises:
        NotFound: no such payment in the organisation.
        Invalid: unknown action, empty note, or a bad amount.
        Conflict: the payment is not held for review, or cannot be credited in its state.
    """
    if action not in ACTIONS:
        raise Invalid("action is credit or dismiss", field="action")
    note = (note or "").strip()
    if not note:
        raise Invalid("say what you checked", field="note")
    payment = get_payment(uow, payment_id)
    if payment.org_id != org_id:
        raise NotFound("no such payment", field="payment_id")
    if not payment.needs_review:
        raise Conflict("this payment is not waiting for review", field="payment_id")
    common: dict[str, object] = {
        "needs_review": False,
        "reviewed_at": now,
        "review_note": note[:200],
        "updated_at": now,
    }
    held = col(Payment.needs_review).is_(True)
    if action == "dismiss":
        if payment.state == PaymentState.UNKNOWN:
            common["state"] = PaymentState.FAILED
            common["settled_at"] = now
        if not _changed(uow, payment_id, held, **common):
            raise Conflict("someone resolved it first", field="payment_id")
        return get_payment(uow, payment_id)
    if payment.state == PaymentState.PAID:
        raise Conflict("already credited; dismiss the flag instead", field="action")
    credit = amount if amount is not None else (payment.paid_amount or payment.amount)
    if isinstance(credit, bool) or not isinstance(credit, int) or credit <= 0:
        raise Invalid("a positive amount in minor units", field="amount")
    handler = handler_for(payment.purpose)
    won = _changed(
        uow,
        payment_id,
        held,
        col(Payment.state) != PaymentState.PAID,
        state=PaymentState.PAID,
        settled_at=now,
        **common,
    )
    if not won:
        raise Conflict("someone resolved it first", field="payment_id")
    payment = get_payment(uow, payment_id)
    org = uow.session.get(Organisation, org_id)
    assert org is not None
    result = handler.credit(uow, org, PaidPayment.of(payment, credit), now)
    if isinstance(result, LedgerTransaction) and result.id is not None:
        _changed(uow, payment_id, ledger_transaction_id=result.id)
    payment = get_payment(uow, payment_id)
    events.publish_after_commit(uow, settled_event(payment))
    return payment
