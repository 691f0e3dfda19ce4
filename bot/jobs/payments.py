"""Payment jobs: the STK push itself, the delayed status queries, and the member's outcome notice.

USSD never waits on M-Pesa: the pay flow writes the payment and queues :func:`push_payment`.
Each job takes a payment id and finds its collaborators through ``bot.bootstrap.current()``
(``services["payment_gateway"]`` and ``services["notifier"]``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.bootstrap import Container, current
from bot.jobs.queue import Retry
from core import payments
from core.clock import as_utc
from core.payment_status import check_status
from core.ports import GatewayUnavailable, PushOutcomeUnknown, PushRefused
from core.settlement import Report, settle
from core.tables import PaymentPurpose, PaymentState

_logger = logging.getLogger(__name__)

QUERY_DELAYS = (30, 60, 120, 300)
"""Seconds after an accepted push at which the status is queried (a lost callback is found here)."""

PUSH_RETRY = Retry(max=2, intervals=(5, 20))
"""Only for pushes that certainly never reached M-Pesa (connection refused and the like)."""

PUSH_GIVE_UP = timedelta(seconds=20)
"""A push still unreachable this long after the payment was written fails instead of retrying."""

NOTICE_RETRY = Retry(max=3, intervals=(10, 60, 300))

_DESCRIPTIONS = {
    PaymentPurpose.CONTRIBUTION: "Contribution",
    PaymentPurpose.LOAN_REPAYMENT: "Loan repayment",
    PaymentPurpose.COLLECTION: "Collection",
    PaymentPurpose.SALE: "Sale",
}
"""Daraja's TransactionDesc (13 characters at most)."""


def push_payment(payment_id: int) -> None:
    """Claim the payment and push it; record what Daraja answered, then schedule status queries."""
    container = current()
    now = container.clock.now()
    with container.uow() as uow:
        claimed = payments.claim_push(uow, payment_id, now)
        payment = payments.get_payment(uow, payment_id)
        uow.commit()
    if not claimed:
        if payment.state == PaymentState.CREATED and payment.push_started_at is None:
            # Too old to push: the member stopped waiting long ago.
            _fail(container, payment_id, "expired before the push")
        else:
            _logger.info("payment %s: push already claimed or settled (%s)", payment_id, payment.state)
        return
    gateway = container.services["payment_gateway"]
    try:
        accepted = gateway.stk_push(
            phone=payment.phone,
            amount=payment.amount,
            account_reference=payment.account_reference,
            description=_DESCRIPTIONS.get(PaymentPurpose(payment.purpose), "Payment"),
            callback_token=payment.callback_token,
        )
    except PushOutcomeUnknown as exc:
        with container.uow() as uow:
            payments.record_push_unknown(uow, payment_id, reason=exc.message, now=container.clock.now())
            uow.commit()
        _logger.warning("payment %s: push answer lost (%s); UNKNOWN until the callback", payment_id, exc.message)
        return
    except PushRefused as exc:
        _fail(container, payment_id, exc.message or "M-Pesa refused the request")
        return
    except GatewayUnavailable as exc:
        if container.clock.now() - _aware(payment.created_at) >= PUSH_GIVE_UP:
            _fail(container, payment_id, f"M-Pesa unreachable: {exc.message}")
            return
        with container.uow() as uow:
            payments.release_push(uow, payment_id, container.clock.now())
            uow.commit()
        raise
    with container.uow() as uow:
        payments.record_push_accepted(
            uow,
            payment_id,
            merchant_request_id=accepted.merchant_request_id,
            checkout_request_id=accepted.checkout_request_id,
            now=container.clock.now(),
        )
        uow.commit()
    for delay in QUERY_DELAYS:
        container.queue.enqueue(query_payment, payment_id, delay=delay)


def query_payment(payment_id: int) -> None:
    """Ask M-Pesa how the payment ended and settle by the answer (a no-op once settled and confirmed)."""
    container = current()
    check = check_status(container.uow, container.services["payment_gateway"], payment_id, container.clock.now())
    _logger.info("payment %s status check: %s (%s)", payment_id, check.action, check.after)


def notify_payment(payment_id: int, state: str) -> None:
    """Tell the member how their payment ended (the state it settled to, not whatever it is now)."""
    from bot.payment_notices import notice_for

    container = current()
    with container.uow() as uow:
        payment = payments.get_payment(uow, payment_id)
        notice = notice_for(uow, payment, state, container.clock.now())
    if notice is None:
        return
    key, values = notice
    container.services["notifier"].notify(payment.org_id, payment.member_id, key, **values)


def _fail(container: Container, payment_id: int, reason: str) -> None:
    report = Report(source="push", outcome=PaymentState.FAILED, result_desc=reason)
    with container.uow() as uow:
        settle(uow, report, now=container.clock.now(), payment_id=payment_id)
        uow.commit()
    _logger.warning("payment %s failed before any prompt: %s", payment_id, reason)


def _aware(value: datetime) -> datetime:
    return as_utc(value)
