"""When the periodic jobs run (RQ cron, embedded timer), and the ``jumbe reminders`` commands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from bot import scheduler
from bot.bootstrap import Container
from bot.cli import app
from bot.delivery import Delivery, DeliveryConfig
from core.clock import FixedClock
from core.tables import Reminder
from core.uow import UnitOfWork, make_engine
from tests.reminders_support import DUE, FakeSenders, setup_borrower

MONDAY_0600 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_the_rq_cron_schedule() -> None:
    from rq.cron import CronScheduler

    cron = CronScheduler(connection=fakeredis.FakeRedis())
    scheduler.register(cron, "jumbe")
    assert [(job.func_name.rsplit(".", 1)[1], job.cron, job.interval) for job in cron.get_jobs()] == [
        ("plan_reminders", "5 * * * *", None),
        ("dispatch_reminders", None, 60),
        ("send_officer_summaries", "0 6 * * 1", None),
    ]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 23, 6, 0, tzinfo=UTC), {"dispatch_reminders", "send_officer_summaries"}),
        (datetime(2026, 11, 23, 6, 5, tzinfo=UTC), {"dispatch_reminders", "plan_reminders"}),
        (datetime(2026, 11, 24, 6, 0, tzinfo=UTC), {"dispatch_reminders"}),  # a Tuesday
        (datetime(2026, 11, 24, 6, 7, tzinfo=UTC), {"dispatch_reminders"}),
    ],
)
def test_embedded_timer_runs_what_is_due(at: datetime, expected: set[str]) -> None:
    names = {item.func.__name__ for item in scheduler.SCHEDULE if scheduler.due(item, None, at)}
    assert names == expected


def test_embedded_timer_runs_each_job_once_per_slot(
    container: Container, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    recording = tuple(
        scheduler.Periodic(_recorder(item.func.__name__, ran), cron=item.cron, interval=item.interval)
        for item in scheduler.SCHEDULE
    )
    monkeypatch.setattr(scheduler, "SCHEDULE", recording)
    timer = scheduler.EmbeddedScheduler(FixedClock(MONDAY_0600))
    timer.run_due()
    timer.run_due()  # same minute: nothing again
    assert sorted(ran) == ["dispatch_reminders", "send_officer_summaries"]


def _recorder(name: str, ran: list[str]):  # type: ignore[no-untyped-def]
    def record() -> None:
        ran.append(name)

    record.__name__ = name
    return record


def test_embedded_timer_survives_a_failing_job(container: Container, clock: FixedClock) -> None:
    container.services["delivery"] = Delivery(
        container.uow, clock, container.queue, FakeSenders(), config=DeliveryConfig(rates={})
    )
    timer = scheduler.EmbeddedScheduler(FixedClock(MONDAY_0600))
    assert "dispatch_reminders" in timer.run_due()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    setup_borrower(engine)
    engine.dispose()
    monkeypatch.setenv("JUMBE_DATABASE_URL", url)
    return url


def test_cli_dry_run_prints_a_table_and_changes_nothing(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["reminders", "run", "--dry-run", "--org", "umoja", "--date", DUE.isoformat()])
    assert result.exit_code == 0, result.output
    assert "umoja 2026-11-27: 1 due, 1 new" in result.output
    assert "yes" in result.output  # the "new" column
    engine = make_engine(cli_db)
    with UnitOfWork(engine) as uow:
        assert uow.session.exec(select(Reminder)).all() == []
    engine.dispose()


def test_cli_run_plans_once(cli_db: str) -> None:
    args = ["reminders", "run", "--no-send", "--org", "umoja", "--date", DUE.isoformat()]
    first = CliRunner().invoke(app, args)
    again = CliRunner().invoke(app, args)
    assert "1 new of 1 due" in first.output and "0 new of 1 due" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reminders", "run", "--date", "27/11/2026"], "--date must be YYYY-MM-DD"),
        (["reminders", "run", "--org", "nope"], "no organisation 'nope'"),
        (["reminders", "broadcast", "--org", "umoja", "--en", " "], "body_en the message is empty"),
    ],
)
def test_cli_bad_input_is_explained(cli_db: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and message in result.output


def test_scheduler_needs_redis(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["scheduler"])
    assert result.exit_code == 2 and "JUMBE_REDIS_URL is not set" in result.output
