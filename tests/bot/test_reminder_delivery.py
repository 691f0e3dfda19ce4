"""Reminders end to end with a controlled clock: planned, dispatched, routed, sent once, stopped when paid."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.bootstrap import Container
from bot.delivery import Delivery, DeliveryConfig
from bot.jobs import reminders as jobs
from core import events, quiet_hours
from core.clock import FixedClock
from core.tables import DeliveryState, Member, Reminder
from core.uow import UnitOfWork
from tests.reminders_support import (
    DUE,
    NAIROBI,
    FakeSenders,
    local,
    repay,
    setup_borrower,
    transient,
    window_closed,
)


@pytest.fixture
def fakes() -> FakeSenders:
    return FakeSenders(whatsapp_enabled=False)


@pytest.fixture
def window() -> set[str]:
    """Phones whose WhatsApp window is open."""
    return set()


@pytest.fixture
def delivery(container: Container, fakes: FakeSenders, window: set[str]) -> Delivery:
    built = Delivery(
        container.uow,
        container.clock,
        container.queue,
        fakes,
        config=DeliveryConfig(rates={}, max_attempts=3, backoff=(60, 600)),
        window=lambda _uow, _org, phone, _now: phone in window,
    )
    container.services["delivery"] = built
    return built


def run_hourly(clock: FixedClock, start: date, days: int, *, each_hour: object = None) -> None:
    """Run the planner (which dispatches) every hour, as the cron does."""
    at = local(start, 0, 5)
    for _ in range(days * 24):
        clock.at = at
        if callable(each_hour):
            each_hour(at)
        jobs.plan_reminders()
        at += timedelta(hours=1)


def sent_local(fakes: FakeSenders, sends: list[tuple[datetime, str]]) -> list[tuple[date, int]]:
    return [(at.astimezone(NAIROBI).date(), at.astimezone(NAIROBI).hour) for at, _ in sends]


def _recording(fakes: FakeSenders, clock: FixedClock) -> list[tuple[datetime, str]]:
    sends: list[tuple[datetime, str]] = []
    original = fakes.record

    def record(item):  # type: ignore[no-untyped-def]
        message_id = original(item)
        sends.append((clock.now(), item.body))
        return message_id

    fakes.record = record  # type: ignore[method-assign]
    return sends


def test_installment_reminders_arrive_on_the_right_days_at_allowed_hours(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    b = setup_borrower(container.db)
    sends = _recording(fakes, clock)
    run_hourly(clock, DUE - timedelta(days=4), 7)  # the +7 and weekly ones: see the planner's tests
    assert sent_local(fakes, sends) == [
        (DUE - timedelta(days=3), 8),
        (DUE, 8),
        (DUE + timedelta(days=1), 8),
    ]
    assert all(s.channel == "sms" and s.to == b.member.phone for s in fakes.sent)
    assert fakes.sent[0].body.endswith("is due on 27/11/2026. Reply 1 to pay now.")
    assert "overdue" in fakes.sent[2].body


def test_paying_the_day_before_stops_the_rest(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    b = setup_borrower(container.db)

    def pay_on_day_minus_one(at: datetime) -> None:
        if at == local(DUE - timedelta(days=1), 12, 5):
            repay(container.db, b, 444_200)

    run_hourly(clock, DUE - timedelta(days=3), 6, each_hour=pay_on_day_minus_one)
    assert len(fakes.sent) == 1 and "is due on 27/11/2026" in fakes.sent[0].body


def test_a_payment_cancels_reminders_planned_for_later_today(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    b = setup_borrower(container.db)
    clock.at = local(DUE, 0, 5)
    jobs.plan_reminders()  # planned for 08:00
    repay(container.db, b, 444_200)
    # the payments module publishes this after its commit; the subscriber queues the cancellation
    events.publish(events.PaymentSettled(1, b.org.id or 0, b.member.id or 0, "paid", 444_200, "loan_repayment", None))
    with container.uow() as uow:
        (row,) = uow.session.exec(select(Reminder)).all()
    assert (row.state, row.error) == (DeliveryState.CANCELLED, "paid")
    clock.at = local(DUE, 9)
    jobs.dispatch_reminders()
    assert fakes.sent == []


def test_opted_out_members_get_nothing(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    b = setup_borrower(container.db)
    clock.at = local(DUE, 0, 5)
    jobs.plan_reminders()
    with container.uow() as uow:  # opts out after planning, before the morning
        member = uow.session.get(Member, b.member.id)
        assert member is not None
        member.opted_out = True
        uow.session.add(member)
        uow.commit()
    run_hourly(clock, DUE, 1)
    assert fakes.sent == []
    with container.uow() as uow:
        states = [r.state for r in uow.session.exec(select(Reminder))]
    assert states == [DeliveryState.SKIPPED]


def test_whatsapp_inside_the_window_is_free_form_with_a_pay_button(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock, window: set[str]
) -> None:
    fakes.whatsapp_enabled = True
    b = setup_borrower(container.db)
    window.add(b.member.phone)
    run_hourly(clock, DUE, 1)
    (sent,) = fakes.sent
    assert (sent.channel, sent.template) == ("whatsapp", None)
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert sent.buttons == ((f"pay:{row.id}", "Pay now"),)
    assert (row.state, row.channel, row.provider_message_id) == (DeliveryState.SENT, "whatsapp", sent.message_id)


def test_whatsapp_outside_the_window_uses_the_template(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    fakes.whatsapp_enabled = True
    setup_borrower(container.db)
    run_hourly(clock, DUE, 1)
    (sent,) = fakes.sent
    assert (sent.channel, sent.template) == ("whatsapp", "jumbe_reminder_pay")
    assert sent.payload is not None and sent.payload.startswith("pay:")


def test_whatsapp_refusal_falls_back_to_sms_at_once(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    fakes.whatsapp_enabled = True
    fakes.fail["whatsapp"] = [window_closed()]
    b = setup_borrower(container.db)
    run_hourly(clock, DUE, 1)
    (sent,) = fakes.sent
    assert sent.channel == "sms" and sent.to == b.member.phone


@pytest.mark.parametrize("code", ["131047", "131026"])
def test_asynchronous_whatsapp_failure_falls_back_to_sms(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock, code: str
) -> None:
    fakes.whatsapp_enabled = True
    setup_borrower(container.db)
    run_hourly(clock, DUE, 1)
    (first,) = fakes.sent
    delivery.on_whatsapp_failed(first.message_id, code)
    delivery.on_whatsapp_failed(first.message_id, code)  # a redelivered webhook changes nothing
    assert [s.channel for s in fakes.sent] == ["whatsapp", "sms"]
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert (row.state, row.channel, row.attempts) == (DeliveryState.SENT, "sms", 2)
    delivery.on_status(fakes.sent[1].message_id, "delivered")
    with container.uow() as uow:
        assert uow.session.exec(select(Reminder)).one().state == DeliveryState.DELIVERED


def test_transient_errors_retry_with_backoff_then_dead(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    fakes.fail["sms"] = [transient()]
    setup_borrower(container.db)
    clock.at = local(DUE, 9)
    jobs.plan_reminders()
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert (row.state, row.attempts) == (DeliveryState.PLANNED, 1)
    assert row.send_after.replace(tzinfo=None) == (clock.now() + timedelta(seconds=60)).replace(tzinfo=None)
    for minutes in (2, 20):
        clock.at = local(DUE, 9) + timedelta(minutes=minutes)
        jobs.dispatch_reminders()
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert (row.state, row.attempts, row.error) == (DeliveryState.DEAD, 3, "sms:503")
    assert fakes.sent == []


def test_a_retry_that_lands_at_night_waits_for_the_morning(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    fakes.fail["sms"] = [transient(), transient()]
    b = setup_borrower(container.db)
    clock.at = local(
        DUE,
        19,
        59,
    )
    jobs.plan_reminders()
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert quiet_hours.is_quiet(b.org, clock.now() + timedelta(seconds=60))
    assert row.send_after.replace(tzinfo=None) == local(DUE + timedelta(days=1), 8).replace(tzinfo=None)


def test_one_reminder_per_member_per_day(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    b = setup_borrower(container.db)
    with container.uow() as uow:  # a second loan due the same day
        from core import loans

        loans.disburse(
            uow,
            b.org,
            b.member.id or 0,
            reference="LN-0002",
            principal=100_000,
            interest=0,
            schedule=[(DUE, 100_000, 0)],
            disbursed_on=DUE - timedelta(days=10),
        )
        uow.commit()
    run_hourly(clock, DUE, 1)
    assert len(fakes.sent) == 1
    with container.uow() as uow:
        states = sorted(str(r.state) for r in uow.session.exec(select(Reminder)))
    assert states == ["sent", "skipped"]


def test_nothing_is_sent_without_any_channel(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    fakes.sms_enabled = False
    setup_borrower(container.db)
    run_hourly(clock, DUE, 1)
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert (row.state, row.error) == (DeliveryState.FAILED, "no channel configured")


def test_dispatch_batches_many_messages_per_job(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    delivery.config.batch_size = 2
    for i in range(5):
        setup_borrower(container.db, phone=f"+25471100010{i}")
    calls: list[int] = []
    original = container.queue.enqueue_many

    def count(batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        original(batch)

    container.queue.enqueue_many = count  # type: ignore[method-assign]
    clock.at = local(DUE, 9)
    jobs.plan_reminders()
    assert calls == [3] and len(fakes.sent) == 5


def test_unknown_status_callbacks_are_ignored(delivery: Delivery) -> None:
    delivery.on_status("wamid.unknown", "delivered")
    delivery.on_whatsapp_failed("wamid.unknown", 131047)


def test_old_send_after_values_are_utc(container: Container, delivery: Delivery, clock: FixedClock) -> None:
    setup_borrower(container.db)
    clock.at = local(DUE, 0, 5)
    jobs.plan_reminders()
    with UnitOfWork(container.db) as uow:
        row = uow.session.exec(select(Reminder)).one()
    assert row.send_after.replace(tzinfo=None) == datetime(2026, 11, 27, 5, 0)


def test_a_reminder_that_dies_is_announced_to_webhook_subscribers(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    import httpx

    from core import webhooks
    from core.tables import WebhookDelivery

    posted: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    container.services["webhooks.http"] = httpx.Client(transport=httpx.MockTransport(receiver))
    setup_borrower(container.db)
    with container.uow() as uow:
        org_id = uow.session.exec(select(Member)).first().org_id  # type: ignore[union-attr]
        webhooks.subscribe(uow, org_id, "https://erp.example/hooks", ["reminder.failed"])
        uow.commit()
    fakes.fail["sms"] = [transient()]
    clock.at = local(DUE, 9)
    jobs.plan_reminders()
    for minutes in (2, 20):
        clock.at = local(DUE, 9) + timedelta(minutes=minutes)
        jobs.dispatch_reminders()
    with container.uow() as uow:
        row = uow.session.exec(select(Reminder)).one()
        sent = uow.session.exec(select(WebhookDelivery)).all()
    assert row.state == DeliveryState.DEAD
    assert [delivery.event for delivery in sent] == ["reminder.failed"]
    assert f'"reminder_id":{row.id}' in sent[0].payload
    assert [request.url.host for request in posted] == ["erp.example"]
