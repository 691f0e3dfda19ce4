"""Asking M-Pesa how a payment ended (status query) and reconciling stragglers, via the gateway port.

Both end in :func:`core.settlement.settle`, the same compare-and-set the callback uses, so a
query racing a callback still credits once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from core.payments import STALE_AFTER, awaiting_answer, get_payment, record_push_unknown
from core.ports import GatewayUnavailable, PaymentGateway
from core.settlement import Report, settle
from core.tables import Payment, PaymentState
from core.uow import UowFactory

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class StatusCheck:
    """What one status check did.

    ``action`` is one of: ``settled`` (this check moved it), ``confirmed`` (M-Pesa agrees with
    a credited payment), ``pending`` (no answer yet), ``query_failed``, ``no_checkout_id``
    (cannot be queried: callback or operator only), ``already_settled``, ``abandoned`` (a
    CREATED payment that was never pushed, now FAILED), ``unknown`` (a push that started but
    never recorded its answer, now UNKNOWN), ``noop`` (the report changed nothing).
    """

    payment_id: int
    org_id: int
    member_id: int
    amount: int
    before: str
    after: str
    action: str
    detail: str = ""


def _check(payment: Payment, after: str, action: str, detail: str = "") -> StatusCheck:
    assert payment.id is not None
    return StatusCheck(
        payment.id,
        payment.org_id,
        payment.member_id,
        payment.amount,
        str(payment.state),
        after,
        action,
        detail,
    )


def check_status(uow_factory: UowFactory, gateway: PaymentGateway, payment_id: int, now: datetime) -> StatusCheck:
    """Query M-Pesa for one payment if that can tell us anything, and settle by the answer.

    A credited payment whose callback was never confirmed by a query is queried once more
    (callbacks are unsigned; see docs/payments.md).
    """
    with uow_factory() as uow:
        payment = get_payment(uow, payment_id)
    state = PaymentState(payment.state)
    unconfirmed = state == PaymentState.PAID and payment.confirmed_at is None and not payment.needs_review
    if payment.needs_review or not (state in (PaymentState.PENDING, PaymentState.UNKNOWN) or unconfirmed):
        if state == PaymentState.CREATED:
            return _check(payment, str(state), "pending", "push not answered yet")
        return _check(payment, str(state), "already_settled")
    if not payment.checkout_request_id:
        return _check(payment, str(state), "no_checkout_id")
    try:
        answer = gateway.stk_query(payment.checkout_request_id)
    except GatewayUnavailable as exc:
        _logger.warning("status query for payment %s failed: %s", payment_id, exc.message)
        return _check(payment, str(state), "query_failed", exc.message)
    if answer.outcome is None:
        return _check(payment, str(state), "pending", answer.result_desc)
    report = Report(
        source="query", outcome=answer.outcome, result_code=answer.result_code, result_desc=answer.result_desc
    )
    with uow_factory() as uow:
        result = settle(uow, report, now=now, payment_id=payment_id)
        uow.commit()
    after = result.payment
    if result.applied:
        action = "settled"
    elif after.confirmed_at is not None and payment.confirmed_at is None:
        action = "confirmed"
    else:
        action = "noop"
    return _check(payment, str(after.state), action, answer.result_desc)


def reconcile(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    now: datetime,
    *,
    older_than: datetime,
    limit: int = 500,
    progress: Callable[[StatusCheck], None] | None = None,
) -> list[StatusCheck]:
    """Settle what is still open and was created before ``older_than``, oldest first."""
    with uow_factory() as uow:
        stragglers = list(awaiting_answer(uow, older_than=older_than, limit=limit))
    checks = []
    for payment in stragglers:
        assert payment.id is not None
        if payment.state == PaymentState.CREATED:
            check = _abandon(uow_factory, payment, now)
        else:
            check = check_status(uow_factory, gateway, payment.id, now)
        checks.append(check)
        if progress is not None:
            progress(check)
    return checks


def _abandon(uow_factory: UowFactory, payment: Payment, now: datetime) -> StatusCheck:
    """A CREATED payment: wait while its push may still run; then end it by what we know."""
    assert payment.id is not None
    if payment.created_at is None or _aware(payment.created_at) > now - STALE_AFTER:
        return _check(payment, str(payment.state), "pending", "push not answered yet")
    with uow_factory() as uow:
        if payment.push_started_at is None:
            # No job ever claimed it, and none will (too old to push): nobody was prompted.
            report = Report(source="reconcile", outcome=PaymentState.FAILED, result_desc="never pushed")
            result = settle(uow, report, now=now, payment_id=payment.id)
            uow.commit()
            return _check(payment, str(result.payment.state), "abandoned" if result.applied else "noop")
        # A push started but its answer was never recorded (a worker died): it may have prompted.
        moved = record_push_unknown(uow, payment.id, reason="push answer never recorded", now=now)
        uow.commit()
    return _check(payment, "unknown" if moved else str(payment.state), "unknown" if moved else "noop")


def _aware(value: datetime) -> datetime:
    from core.clock import as_utc

    return as_utc(value)
