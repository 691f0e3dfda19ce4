"""The compare-and-set: every report settles a payment at most once, and money is credited exactly once.

Every scenario runs on SQLite and on real PostgreSQL, and checks the books balance afterwards.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine as DbEngine

from core import events, payments
from core.clock import FixedClock
from core.events import PaymentSettled
from core.settlement import Report, settle
from core.tables import PaymentPurpose, PaymentState
from tests.core.payments_support import World, checkout_of, contribution_paid, failed, paid, world

sqlite_only = pytest.mark.parametrize("any_db", ["sqlite"], indirect=True)
"""For rules that do not depend on the database's concurrency; the races and the money paths run on both."""


@pytest.fixture
def w(any_db: DbEngine, clock: FixedClock) -> Iterator[World]:
    built = world(any_db, clock)
    yield built
    assert built.trial_balance() == 0


@pytest.fixture
def published() -> Iterator[list[PaymentSettled]]:
    seen: list[PaymentSettled] = []
    events.subscribe(PaymentSettled, seen.append)
    yield seen
    events.unsubscribe(PaymentSettled, seen.append)


def _settle(w: World, report: Report, payment_id: int | None = None, checkout: str | None = None) -> bool:
    with w.uow() as uow:
        result = settle(uow, report, now=w.now, payment_id=payment_id, checkout_request_id=checkout)
        uow.commit()
    return result.applied


def test_success_callback_credits_savings_once(w: World, published: list[PaymentSettled]) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, paid(payment), payment.id)
    assert not _settle(w, paid(payment), payment.id)  # the duplicate
    after = w.payment(payment.id or 0)
    assert after.state == PaymentState.PAID
    assert after.mpesa_receipt == f"SBX{payment.id:07d}"
    assert after.ledger_transaction_id is not None
    assert after.settled_at is not None
    assert w.savings() == before + 100_000
    assert contribution_paid(w) == 100_000
    assert w.clearing() == 100_000
    assert [(e.payment_id, e.state) for e in published] == [(payment.id, "paid")]


def test_loan_installment_goes_to_interest_then_principal(w: World) -> None:
    payment = w.pending(444_200, PaymentPurpose.LOAN_REPAYMENT)
    assert _settle(w, paid(payment), payment.id)
    assert w.loan_repaid() == 444_200
    with w.uow() as uow:
        from core import loans

        due = loans.next_due(uow, w.loan)
    assert due is not None and due.installment.seq == 2


@sqlite_only
def test_loan_overpayment_is_kept_as_savings(w: World) -> None:
    before = w.savings()
    payment = w.pending(5_000_000, PaymentPurpose.LOAN_REPAYMENT)  # more than the whole loan (4,442,000)
    assert _settle(w, paid(payment), payment.id)
    assert w.loan_repaid() == 4_442_000
    assert w.savings() == before + 558_000


@sqlite_only
def test_settle_by_checkout_id(w: World) -> None:
    payment = w.pending()
    assert _settle(w, paid(payment), checkout=checkout_of(payment))
    assert w.payment(payment.id or 0).state == PaymentState.PAID


@sqlite_only
@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (1, PaymentState.FAILED),
        (1032, PaymentState.CANCELLED),
        (1037, PaymentState.TIMEOUT),
        (2001, PaymentState.FAILED),
        (1036, PaymentState.FAILED),
    ],
)
def test_failures_settle_without_money(w: World, code: int, outcome: PaymentState) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, failed(payment, code, outcome), payment.id)
    after = w.payment(payment.id or 0)
    assert (after.state, after.result_code) == (outcome, code)
    assert after.ledger_transaction_id is None
    assert w.savings() == before
    # A success after FAILED/CANCELLED is never credited automatically.
    if outcome != PaymentState.TIMEOUT:
        assert not _settle(w, paid(payment), payment.id)
        flagged = w.payment(payment.id or 0)
        assert flagged.state == outcome
        assert flagged.needs_review and flagged.review_reason == f"success_after_{outcome}"
        assert flagged.mpesa_receipt == f"SBX{payment.id:07d}"
        assert w.savings() == before


def test_callback_before_push_response_credits_once(w: World) -> None:
    payment = w.start()
    assert payment.id is not None
    with w.uow() as uow:
        assert payments.claim_push(uow, payment.id, w.now)
        uow.commit()
    # The callback (found by its token) lands while the push job still waits for Daraja's answer.
    assert _settle(w, paid(payment), payment.id)
    with w.uow() as uow:
        moved = payments.record_push_accepted(
            uow, payment.id, merchant_request_id=f"m-{payment.id}", checkout_request_id=checkout_of(payment), now=w.now
        )
        uow.commit()
    assert not moved
    after = w.payment(payment.id)
    assert after.state == PaymentState.PAID
    assert after.checkout_request_id == checkout_of(payment)
    assert contribution_paid(w) == 100_000


def test_lost_push_answer_then_callback_credits(w: World) -> None:
    payment = w.start()
    assert payment.id is not None
    with w.uow() as uow:
        payments.claim_push(uow, payment.id, w.now)
        payments.record_push_unknown(uow, payment.id, reason="read timeout", now=w.now)
        uow.commit()
    assert _settle(w, paid(payment), payment.id)
    after = w.payment(payment.id)
    assert after.state == PaymentState.PAID and after.checkout_request_id == checkout_of(payment)
    assert contribution_paid(w) == 100_000


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": 10_000}, "amount_mismatch"),
        ({"phone": "+254711222333"}, "phone_mismatch"),
        ({"checkout_request_id": "ws_CO_SOMETHING_ELSE"}, "checkout_mismatch"),
    ],
)
def test_mismatched_success_is_held_for_review_not_credited(
    w: World, change: dict[str, object], reason: str, published: list[PaymentSettled]
) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, paid(payment, **change), payment.id)
    held = w.payment(payment.id or 0)
    assert held.state == PaymentState.UNKNOWN
    assert held.needs_review and held.review_reason == reason
    assert held.ledger_transaction_id is None
    assert w.savings() == before
    # Nothing that comes later credits it: not the right callback, not a status query.
    assert not _settle(w, paid(payment), payment.id)
    assert not _settle(w, Report(source="query", outcome=PaymentState.PAID, result_code=0), payment.id)
    assert w.savings() == before
    assert published[-1].needs_review and published[-1].state == "unknown"


@sqlite_only
def test_a_receipt_already_used_is_held(w: World) -> None:
    first = w.pending()
    assert _settle(w, paid(first), first.id)
    second = w.pending(200_000)
    assert _settle(w, paid(second, receipt=f"SBX{first.id:07d}"), second.id)
    held = w.payment(second.id or 0)
    assert (held.state, held.review_reason, held.mpesa_receipt) == (PaymentState.UNKNOWN, "duplicate_receipt", None)


@sqlite_only
def test_failure_callback_for_another_checkout_is_ignored(w: World) -> None:
    payment = w.pending()
    other = dataclasses.replace(failed(payment, 1032, PaymentState.CANCELLED), checkout_request_id="ws_CO_OTHER")
    assert not _settle(w, other, payment.id)
    assert w.payment(payment.id or 0).state == PaymentState.PENDING


def test_timeout_then_late_success_is_credited_once_and_flagged(w: World, published: list[PaymentSettled]) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, failed(payment, 1037, PaymentState.TIMEOUT, source="query"), payment.id)
    assert _settle(w, paid(payment), payment.id)
    assert not _settle(w, paid(payment), payment.id)
    after = w.payment(payment.id or 0)
    assert after.state == PaymentState.PAID
    assert after.needs_review and after.review_reason == "late_success"
    assert w.savings() == before + 100_000
    assert [e.state for e in published] == ["timeout", "paid"]


@sqlite_only
def test_timeout_then_late_success_of_another_amount_is_held(w: World) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, failed(payment, 1037, PaymentState.TIMEOUT), payment.id)
    assert not _settle(w, paid(payment, amount=50_000), payment.id)
    after = w.payment(payment.id or 0)
    assert (after.state, after.review_reason, after.paid_amount) == (PaymentState.TIMEOUT, "amount_mismatch", 50_000)
    assert w.savings() == before


def test_query_failure_after_a_credited_callback_flags_without_touching_money(w: World) -> None:
    before = w.savings()
    payment = w.pending()
    assert _settle(w, paid(payment), payment.id)
    assert not _settle(w, failed(payment, 1032, PaymentState.CANCELLED, source="query"), payment.id)
    after = w.payment(payment.id or 0)
    assert after.state == PaymentState.PAID
    assert after.needs_review and after.review_reason == "result_disagrees"
    assert w.savings() == before + 100_000


@sqlite_only
def test_query_success_confirms_a_callback_credit(w: World) -> None:
    payment = w.pending()
    assert _settle(w, paid(payment), payment.id)
    assert not _settle(w, Report(source="query", outcome=PaymentState.PAID, result_code=0), payment.id)
    assert w.payment(payment.id or 0).confirmed_at is not None


@sqlite_only
def test_query_credit_then_callback_brings_the_receipt(w: World) -> None:
    payment = w.pending()
    assert _settle(w, Report(source="query", outcome=PaymentState.PAID, result_code=0), payment.id)
    assert w.payment(payment.id or 0).mpesa_receipt is None
    assert not _settle(w, paid(payment), payment.id)
    assert w.payment(payment.id or 0).mpesa_receipt == f"SBX{payment.id:07d}"
    assert contribution_paid(w) == 100_000


@sqlite_only
def test_events_wait_for_commit_and_vanish_on_rollback(w: World, published: list[PaymentSettled]) -> None:
    payment = w.pending()
    with w.uow() as uow:
        settle(uow, paid(payment), now=w.now, payment_id=payment.id)
        assert published == []
    assert published == []  # rolled back: no event, and nothing changed
    assert w.payment(payment.id or 0).state == PaymentState.PENDING
    assert _settle(w, paid(payment), payment.id)
    assert len(published) == 1


@sqlite_only
def test_settling_to_pending_is_refused(w: World) -> None:
    payment = w.pending()
    with w.uow() as uow, pytest.raises(ValueError, match="cannot settle"):
        settle(uow, Report(source="query", outcome=PaymentState.PENDING), now=w.now, payment_id=payment.id)


def _race(w: World, reports: list[Report], payment_id: int) -> list[bool]:
    """Fire every report at once, each in its own thread and unit of work."""
    start = threading.Barrier(len(reports))
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def fire(report: Report) -> None:
        try:
            start.wait()
            applied = _settle(w, report, payment_id)
        except BaseException as exc:  # collected and re-raised below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(applied)

    threads = [threading.Thread(target=fire, args=(r,)) for r in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_twenty_identical_callbacks_at_once_credit_once(w: World, published: list[PaymentSettled]) -> None:
    before = w.savings()
    payment = w.pending()
    results = _race(w, [paid(payment)] * 20, payment.id or 0)
    assert results.count(True) == 1 and len(results) == 20
    assert w.savings() == before + 100_000
    assert w.clearing() == 100_000
    assert contribution_paid(w) == 100_000
    assert len(published) == 1


def test_callbacks_and_queries_racing_settle_once(w: World) -> None:
    payment = w.pending(444_200, PaymentPurpose.LOAN_REPAYMENT)
    query = Report(source="query", outcome=PaymentState.PAID, result_code=0)
    results = _race(w, [paid(payment)] * 8 + [query] * 8, payment.id or 0)
    assert results.count(True) == 1
    assert w.loan_repaid() == 444_200


def test_success_and_cancel_racing_end_in_one_state(w: World) -> None:
    before = w.savings()
    payment = w.pending()
    cancel = failed(payment, 1032, PaymentState.CANCELLED)
    results = _race(w, [paid(payment), cancel] * 5, payment.id or 0)
    assert results.count(True) == 1
    after = w.payment(payment.id or 0)
    assert w.savings() == before + (100_000 if after.state == PaymentState.PAID else 0)
