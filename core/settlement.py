"""Settling a payment: ONE compare-and-set, used by the callback, the status query and reconciliation.

``settle`` runs a single conditional ``UPDATE payment SET state = ... WHERE id = ? AND state IN
(created, pending, unknown) AND needs_review = false``. Whoever changes the row (rowcount 1) has
settled it, and in the same database transaction posts the ledger (on PAID) through the
purpose's handler; everyone else changed nothing. On PostgreSQL a concurrent UPDATE of the same
row waits for the winner's commit and then re-checks the WHERE against the committed row (READ
COMMITTED is enough); SQLite lets one writer at a time. So twenty identical callbacks at once
credit once.

The rules (docs/payments.md explains why):

* Decide on ``ResultCode`` (mapped to an outcome by the channel), never on the description.
* A success whose amount, phone, CheckoutRequestID or receipt does not fit the payment is
  recorded, marked for review and NOT credited: the payment becomes UNKNOWN with
  ``needs_review`` (which also stops any later report from crediting it).
* Late success after TIMEOUT: a success report (callback that passes the checks, or status
  query) for a TIMEOUT payment re-settles it to PAID once, credited and flagged
  ``late_success`` for the operator. TIMEOUT is the only final state M-Pesa can contradict;
  a success after FAILED or CANCELLED is recorded and flagged, not credited.
* A failure report for a PAID payment changes nothing but flags it (``result_disagrees``); a
  status query agreeing with a callback-credited payment stamps ``confirmed_at``.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from core import events
from core.errors import NotFound
from core.payment_purposes import PaidPayment, handler_for
from core.payments import _changed, by_checkout_id, get_payment
from core.phones import mask
from core.tables import (
    OPEN_STATES,
    LedgerTransaction,
    Organisation,
    Payment,
    PaymentState,
)
from core.uow import UnitOfWork

_logger = logging.getLogger(__name__)

FINAL_UNPAID = frozenset({PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.TIMEOUT})
SETTLED_STATES = FINAL_UNPAID | {PaymentState.PAID, PaymentState.UNKNOWN}


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """What M-Pesa (or an operator) said about a payment.

    Attributes:
        source: ``callback``, ``query``, ``push`` (the push was refused), ``reconcile`` or ``operator``.
        outcome: PAID, FAILED, CANCELLED, TIMEOUT or UNKNOWN.
        amount: minor units M-Pesa says were paid (callbacks only).
        phone: the payer M-Pesa reports, E.164, if readable.
    """

    source: str
    outcome: PaymentState
    result_code: int | None = None
    result_desc: str = ""
    receipt: str | None = None
    amount: int | None = None
    phone: str | None = None
    checkout_request_id: str | None = None
    merchant_request_id: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Settlement:
    payment: Payment
    """The payment as it stands after this report (a read-only snapshot)."""
    applied: bool
    """This report moved the payment (it won the compare-and-set)."""
    credited: bool = False


def settle(
    uow: UnitOfWork,
    report: Report,
    *,
    now: datetime,
    payment_id: int | None = None,
    checkout_request_id: str | None = None,
) -> Settlement:
    """Apply ``report`` to the payment (by id, else by CheckoutRequestID). The caller commits.

    Raises:
        NotFound: no such payment.
        LookupError: no handler for the payment's purpose in this process (nothing written).
        ValueError: ``report.outcome`` is not a settled state.
    """
    if report.outcome not in SETTLED_STATES:
        raise ValueError(f"cannot settle to {report.outcome}")
    payment = _find(uow, payment_id, checkout_request_id)
    assert payment.id is not None
    pid = payment.id
    handler = handler_for(payment.purpose)  # before any write: no handler, no change
    target, reason = _judge(uow, payment, report)
    if target is None:
        _logger.warning("payment %s: %s report ignored (%s)", payment.id, report.source, reason)
        return Settlement(payment, applied=False)
    values = _values(report, target, reason, now)
    sources = OPEN_STATES - {PaymentState.UNKNOWN} if target == PaymentState.UNKNOWN else OPEN_STATES
    won = _cas(uow, pid, sources, values)
    if not won and target == PaymentState.PAID:
        values.update(needs_review=True, review_reason="late_success")
        won = _cas(uow, pid, {PaymentState.TIMEOUT}, values)
    payment = get_payment(uow, pid)
    if not won:
        _afterwards(uow, payment, report, reason, now)
        return Settlement(get_payment(uow, pid), applied=False)
    credited = False
    org = uow.session.get(Organisation, payment.org_id)
    assert org is not None
    if payment.state == PaymentState.PAID:
        result = handler.credit(uow, org, PaidPayment.of(payment), now)
        if isinstance(result, LedgerTransaction) and result.id is not None:
            _changed(uow, pid, ledger_transaction_id=result.id)
        credited = True
    elif payment.state in FINAL_UNPAID and handler.unpaid is not None:
        handler.unpaid(uow, org, PaidPayment.of(payment), now)
    payment = get_payment(uow, pid)
    _logger.info(
        "payment %s settled %s by %s (code %s)%s",
        payment.id,
        payment.state,
        report.source,
        report.result_code,
        f", review: {payment.review_reason}" if payment.needs_review else "",
    )
    events.publish_after_commit(uow, settled_event(payment))
    return Settlement(payment, applied=True, credited=credited)


def settled_event(payment: Payment) -> events.PaymentSettled:
    assert payment.id is not None
    return events.PaymentSettled(
        payment_id=payment.id,
        org_id=payment.org_id,
        member_id=payment.member_id,
        state=str(payment.state),
        amount=payment.amount,
        purpose=str(payment.purpose),
        subject=payment.subject,
        result_code=payment.result_code,
        receipt=payment.mpesa_receipt,
        needs_review=payment.needs_review,
        review_reason=payment.review_reason,
    )


def _find(uow: UnitOfWork, payment_id: int | None, checkout_request_id: str | None) -> Payment:
    if payment_id is not None:
        return get_payment(uow, payment_id)
    found = by_checkout_id(uow, checkout_request_id) if checkout_request_id else None
    if found is None:
        raise NotFound("no payment with that CheckoutRequestID", field="checkout_request_id")
    return found


def _judge(uow: UnitOfWork, payment: Payment, report: Report) -> tuple[PaymentState | None, str | None]:
    """The state this report earns, and why it is held for review (if it is)."""
    known, told = payment.checkout_request_id, report.checkout_request_id
    mismatch = bool(known and told and known != told)
    if report.outcome != PaymentState.PAID:
        # A failure about some other push must not end this one.
        return (None, "checkout_mismatch") if mismatch else (report.outcome, None)
    if mismatch:
        return PaymentState.UNKNOWN, "checkout_mismatch"
    if report.amount is not None and report.amount != payment.amount:
        _logger.warning("payment %s: paid %s, expected %s", payment.id, report.amount, payment.amount)
        return PaymentState.UNKNOWN, "amount_mismatch"
    if report.phone is not None and report.phone != payment.phone:
        _logger.warning("payment %s: paid from %s, not the payer asked", payment.id, mask(report.phone))
        return PaymentState.UNKNOWN, "phone_mismatch"
    if report.receipt and _receipt_elsewhere(uow, payment, report.receipt):
        return PaymentState.UNKNOWN, "duplicate_receipt"
    return PaymentState.PAID, None


def _receipt_elsewhere(uow: UnitOfWork, payment: Payment, receipt: str) -> bool:
    query = (
        select(func.count()).select_from(Payment).where(Payment.mpesa_receipt == receipt, col(Payment.id) != payment.id)
    )
    return bool(uow.session.exec(query).one())


def _values(report: Report, target: PaymentState, reason: str | None, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {
        "state": target,
        "result_code": report.result_code,
        "result_desc": (report.result_desc or "")[:200] or None,
        "updated_at": now,
        "settled_at": now,
    }
    if report.checkout_request_id:
        values["checkout_request_id"] = func.coalesce(Payment.checkout_request_id, report.checkout_request_id)
    if report.merchant_request_id:
        values["merchant_request_id"] = func.coalesce(Payment.merchant_request_id, report.merchant_request_id)
    if report.amount is not None:
        values["paid_amount"] = report.amount
    if report.phone is not None:
        values["paid_phone"] = report.phone
    if report.receipt and reason != "duplicate_receipt":
        values["mpesa_receipt"] = report.receipt
    if reason is not None:
        values.update(needs_review=True, review_reason=reason)
    if report.source == "query" and target == PaymentState.PAID:
        values["confirmed_at"] = now  # the query is M-Pesa's own word; nothing left to confirm
    return values


def _cas(
    uow: UnitOfWork, payment_id: int, sources: frozenset[PaymentState] | set[PaymentState], values: dict[str, object]
) -> bool:
    return _changed(
        uow,
        payment_id,
        col(Payment.state).in_(sources),
        col(Payment.needs_review).is_(False),
        **values,
    )


def _afterwards(uow: UnitOfWork, payment: Payment, report: Report, reason: str | None, now: datetime) -> None:
    """A report that lost the compare-and-set: note what it tells us, change no money."""
    assert payment.id is not None
    state = PaymentState(payment.state)
    if state == PaymentState.PAID and report.outcome == PaymentState.PAID:
        if report.source == "query" and payment.confirmed_at is None:
            _changed(uow, payment.id, col(Payment.confirmed_at).is_(None), confirmed_at=now)
        elif report.receipt and payment.mpesa_receipt is None and not _receipt_elsewhere(uow, payment, report.receipt):
            # Credited from a status query (no receipt there); the callback brings it.
            _changed(uow, payment.id, col(Payment.mpesa_receipt).is_(None), mpesa_receipt=report.receipt)
        return
    if state == PaymentState.PAID and report.outcome in FINAL_UNPAID:
        _flag(uow, payment.id, "result_disagrees", now)
        return
    if state in FINAL_UNPAID and report.outcome == PaymentState.PAID:
        # M-Pesa says it took money after telling us it would not (or took a different sum
        # after a timeout): an operator must look.
        extra: dict[str, object] = {}
        if report.receipt and not _receipt_elsewhere(uow, payment, report.receipt):
            extra["mpesa_receipt"] = func.coalesce(Payment.mpesa_receipt, report.receipt)
        if report.amount is not None:
            extra["paid_amount"] = report.amount
        if _flag(uow, payment.id, reason or f"success_after_{state}", now, **extra):
            events.publish_after_commit(uow, settled_event(get_payment(uow, payment.id)))
        return
    _logger.info("payment %s already %s; %s report is a no-op", payment.id, state, report.source)


def _flag(uow: UnitOfWork, payment_id: int, reason: str, now: datetime, **extra: object) -> bool:
    flagged = _changed(
        uow,
        payment_id,
        col(Payment.needs_review).is_(False),
        needs_review=True,
        review_reason=reason,
        updated_at=now,
        **extra,
    )
    if flagged:
        _logger.warning("payment %s flagged for review: %s", payment_id, reason)
    return flagged
