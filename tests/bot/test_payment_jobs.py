"""The push job, the delayed status queries, reconciliation and the outcome notices."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy.engine import Engine as DbEngine
from typer.testing import CliRunner

from bot import cli_payments
from bot.bootstrap import Container
from bot.jobs import payments as jobs
from bot.jobs.queue import DeferredQueue
from bot.settings import Settings
from core import payments
from core.clock import FixedClock
from core.ports import GatewayUnavailable, PushOutcomeUnknown, PushRefused, QueryAnswer
from core.tables import PaymentState
from tests.bot.mpesa_support import RecordingNotifier, payment_by_id
from tests.conftest import make_container
from tests.core.payments_support import PENDING_ANSWER, FakeGateway, World, world


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    monkeypatch.setattr(cli_payments, "console", Console(width=200))


@pytest.fixture
def queue() -> DeferredQueue:
    return DeferredQueue()


@pytest.fixture
def app(db: DbEngine, settings: Settings, clock: FixedClock, queue: DeferredQueue) -> Container:
    built = make_container(db, settings, clock, queue=queue)
    built.services["payment_gateway"] = FakeGateway()
    built.services["notifier"] = RecordingNotifier()
    return built


@pytest.fixture
def w(app: Container, clock: FixedClock) -> World:
    return world(app.db, clock)


def _fake(app: Container) -> FakeGateway:
    gateway: FakeGateway = app.services["payment_gateway"]
    return gateway


def _notices(app: Container) -> RecordingNotifier:
    recorder: RecordingNotifier = app.services["notifier"]
    return recorder


def _start(app: Container, w: World, amount: int = 100_000) -> int:
    return int(
        app.services["payments"].start(
            org_id=w.org.id,
            member_id=w.member.id,
            purpose="contribution",
            amount=amount,
            subject="2026-11",
            idempotency_key=f"job-{amount}-{w.now.isoformat()}",
        )
    )


def _names(queue: DeferredQueue) -> list[tuple[str, float]]:
    return [(func.__name__, delay) for func, _, delay in queue.jobs]


def test_start_only_queues_the_push(app: Container, w: World, queue: DeferredQueue) -> None:
    payment_id = _start(app, w)
    assert _names(queue) == [("push_payment", 0)]
    assert _fake(app).pushes == []
    assert payment_by_id(app, payment_id).state == PaymentState.CREATED


def test_push_then_status_queries_at_30_60_120_300_seconds(app: Container, w: World, queue: DeferredQueue) -> None:
    payment_id = _start(app, w)
    queue.run_all(max_delay=0)
    assert len(_fake(app).pushes) == 1
    payment = payment_by_id(app, payment_id)
    assert payment.state == PaymentState.PENDING and payment.checkout_request_id == "ws_CO_FAKE000001"
    assert _names(queue) == [("query_payment", d) for d in (30, 60, 120, 300)]


def test_the_push_job_pushes_once_however_often_it_runs(app: Container, w: World, queue: DeferredQueue) -> None:
    payment_id = _start(app, w)
    jobs.push_payment(payment_id)
    jobs.push_payment(payment_id)
    queue.run_all(max_delay=0)
    assert len(_fake(app).pushes) == 1


def test_lost_callback_is_found_by_the_status_query(app: Container, w: World, queue: DeferredQueue) -> None:
    before = w.savings()
    payment_id = _start(app, w)
    queue.run_all(max_delay=0)
    gateway = _fake(app)
    gateway.answers["ws_CO_FAKE000001"] = PENDING_ANSWER
    queue.run_all(max_delay=30)
    assert payment_by_id(app, payment_id).state == PaymentState.PENDING
    gateway.answers["ws_CO_FAKE000001"] = QueryAnswer(PaymentState.PAID, 0, "processed successfully")
    queue.run_all(max_delay=60)
    settled = payment_by_id(app, payment_id)
    assert settled.state == PaymentState.PAID and settled.confirmed_at is not None
    assert w.savings() == before + 100_000
    queue.run_all()  # the later queries change nothing
    assert w.savings() == before + 100_000
    assert [key for _, _, key, _ in _notices(app).sent] == ["pay.notice_paid_savings"]
    assert w.trial_balance() == 0


def test_lost_push_answer_is_unknown_and_never_pushed_again(app: Container, w: World, queue: DeferredQueue) -> None:
    _fake(app).push_error = PushOutcomeUnknown("read timeout")
    payment_id = _start(app, w)
    queue.run_all()
    assert payment_by_id(app, payment_id).state == PaymentState.UNKNOWN
    assert queue.jobs == [] and len(_fake(app).pushes) == 1
    assert _notices(app).sent == []  # nothing to tell until we know


def test_refused_push_fails_and_tells_the_member(app: Container, w: World, queue: DeferredQueue) -> None:
    _fake(app).push_error = PushRefused("Unable to lock subscriber", code="500.001.1001")
    payment_id = _start(app, w)
    queue.run_all()
    failed = payment_by_id(app, payment_id)
    assert (failed.state, failed.result_desc) == (PaymentState.FAILED, "Unable to lock subscriber")
    assert [key for _, _, key, _ in _notices(app).sent] == ["pay.notice_failed"]


def test_unreachable_mpesa_is_retried_then_fails(app: Container, w: World, clock: FixedClock) -> None:
    _fake(app).push_error = GatewayUnavailable("connection refused")
    payment_id = _start(app, w)
    with pytest.raises(GatewayUnavailable):
        jobs.push_payment(payment_id)  # the queue retries it
    assert payment_by_id(app, payment_id).push_started_at is None
    clock.advance(seconds=25)
    jobs.push_payment(payment_id)
    assert payment_by_id(app, payment_id).state == PaymentState.FAILED


def test_a_push_job_that_comes_too_late_fails_the_payment(app: Container, w: World, clock: FixedClock) -> None:
    payment_id = _start(app, w)
    clock.advance(minutes=3)
    jobs.push_payment(payment_id)
    assert _fake(app).pushes == []
    assert payment_by_id(app, payment_id).result_desc == "expired before the push"


def test_reconcile_settles_stragglers_and_prints_a_report(
    app: Container, w: World, queue: DeferredQueue, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = w.savings()
    paid_id = _start(app, w)
    queue.run_all(max_delay=0)
    queue.jobs.clear()  # the status-query jobs were lost (a Redis restart, say)
    clock.advance(minutes=4)
    stuck_id = _start(app, w, 200_000)
    queue.run_all(max_delay=0)
    queue.jobs.clear()
    clock.advance(minutes=4)
    never_pushed = _start(app, w, 300_000)
    queue.jobs.clear()
    clock.advance(minutes=11)
    _fake(app).answers["ws_CO_FAKE000001"] = QueryAnswer(PaymentState.PAID, 0, "processed successfully")
    monkeypatch.setattr(cli_payments, "_container", lambda: nullcontext(app))
    result = CliRunner().invoke(cli_payments.payments_app, ["reconcile", "--older-than", "5"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Reconciled 3 payment(s)" in result.output
    assert "abandoned: 1, pending: 1, settled: 1" in result.output
    assert payment_by_id(app, paid_id).state == PaymentState.PAID
    assert payment_by_id(app, stuck_id).state == PaymentState.PENDING
    assert payment_by_id(app, never_pushed).state == PaymentState.FAILED
    assert w.savings() == before + 100_000
    assert w.trial_balance() == 0


def test_review_and_resolve_commands(
    app: Container, w: World, queue: DeferredQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settlement import Report, settle

    before = w.savings()
    payment_id = _start(app, w)
    queue.run_all(max_delay=0)
    with app.uow() as uow:
        report = Report(
            source="callback", outcome=PaymentState.PAID, result_code=0, receipt="SBXMISMATCH", amount=50_000
        )
        settle(uow, report, now=w.now, payment_id=payment_id)
        uow.commit()
    monkeypatch.setattr(cli_payments, "_container", lambda: nullcontext(app))
    runner = CliRunner()
    listed = runner.invoke(cli_payments.payments_app, ["review"], terminal_width=200)
    assert "1 payment(s) to review" in listed.output and "amount_mismatch" in listed.output
    refused = runner.invoke(
        cli_payments.payments_app, ["resolve", str(payment_id), "--action", "refund", "--note", "x", "--org", "demo"]
    )
    assert refused.exit_code == 2 and "action is credit or dismiss" in refused.output
    done = runner.invoke(
        cli_payments.payments_app,
        ["resolve", str(payment_id), "--action", "credit", "--note", "statement 22/11 SBXMISMATCH", "--org", "demo"],
    )
    assert done.exit_code == 0, done.output
    resolved = payment_by_id(app, payment_id)
    assert (resolved.state, resolved.needs_review, resolved.review_note) == (
        PaymentState.PAID,
        False,
        "statement 22/11 SBXMISMATCH",
    )
    assert w.savings() == before + 50_000  # what actually arrived
    assert w.trial_balance() == 0


def test_a_member_who_paid_is_told_even_when_the_query_found_it(app: Container, w: World) -> None:
    payment_id = _start(app, w)
    app.queue.run_all(max_delay=0)  # type: ignore[attr-defined]
    _fake(app).answers["ws_CO_FAKE000001"] = QueryAnswer(PaymentState.CANCELLED, 1032, "cancelled")
    jobs.query_payment(payment_id)
    app.queue.run_all(max_delay=0)  # type: ignore[attr-defined]
    assert [key for _, _, key, _ in _notices(app).sent] == ["pay.notice_cancelled"]
    with app.uow() as uow:
        assert payments.open_payment(uow, w.org.id or 0, w.member.phone, w.now, member_id=w.member.id) is None
