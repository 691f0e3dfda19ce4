"""The planner: which reminders exist for a day, once, in the organisation's time zone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from core import collections as agent_collections
from core import due_items, loans, members, orgs, quiet_hours, reminder_rules, reminders
from core.errors import Invalid
from core.tables import ContributionPlan, Loan, LoanStatus, Member, Reminder, ReminderRule, Role, TargetKind
from core.uow import UnitOfWork
from tests.reminders_support import DUE, local, repay, setup_borrower


def _plan(db: DbEngine, day: date, hour: int = 0) -> reminders.PlanResult:
    with UnitOfWork(db) as uow:
        (result,) = reminders.plan_all(uow, local(day, hour, 5), org_slug="umoja")
        return result


def _rows(db: DbEngine) -> list[Reminder]:
    with UnitOfWork(db) as uow:
        return list(uow.session.exec(select(Reminder).order_by(Reminder.id)))  # type: ignore[arg-type]


def test_new_orgs_get_the_default_rules(db: DbEngine) -> None:
    b = setup_borrower(db)
    with UnitOfWork(db) as uow:
        rules = reminder_rules.active_rules(uow, b.org.id or 0)
    offsets = {kind: sorted(r.offset_days for r in rules if r.target == kind) for kind in TargetKind}
    assert offsets == {
        TargetKind.LOAN_INSTALLMENT: [-3, 0, 1, 7],
        TargetKind.CONTRIBUTION: [-3, 0, 3],
        TargetKind.COLLECTION: [-1, 0, 1],
    }
    weekly = next(r for r in rules if r.offset_days == 7)
    assert (weekly.repeat_every_days, weekly.max_repeats) == (7, 4)


def test_firing_dates_cover_the_repeats() -> None:
    rule = ReminderRule(
        org_id=1,
        target=TargetKind.LOAN_INSTALLMENT,
        offset_days=7,
        repeat_every_days=7,
        max_repeats=2,
        template_en="x",
        template_sw="x",
    )
    assert reminder_rules.firing_dates(rule, date(2026, 12, 18)) == [
        (date(2026, 12, 11), 0),
        (date(2026, 12, 4), 1),
        (date(2026, 11, 27), 2),
    ]


def test_installment_reminders_fall_on_the_right_days_and_wait_for_morning(db: DbEngine) -> None:
    setup_borrower(db)
    planned = {day: _plan(db, day).inserted for day in (DUE + timedelta(days=d) for d in range(-5, 9))}
    assert {day: n for day, n in planned.items() if n} == {
        DUE - timedelta(days=3): 1,
        DUE: 1,
        DUE + timedelta(days=1): 1,
        DUE + timedelta(days=7): 1,
    }
    rows = _rows(db)
    assert [r.body for r in rows][0] == (
        "Hello Amina, your Umoja SACCO loan installment of KES 4,442 (LN-0001) is due on 27/11/2026."
    )
    # planned at 00:05 local: sent no earlier than 08:00 local the same day
    assert [r.send_after for r in rows] == [
        local(DUE - timedelta(days=3), 8).replace(tzinfo=None),
        local(DUE, 8).replace(tzinfo=None),
        local(DUE + timedelta(days=1), 8).replace(tzinfo=None),
        local(DUE + timedelta(days=7), 8).replace(tzinfo=None),
    ]


def test_rerunning_plans_nothing_twice(any_db: DbEngine) -> None:
    setup_borrower(any_db)
    first = _plan(any_db, DUE)
    again = [_plan(any_db, DUE, hour) for hour in (1, 9, 23)]
    assert first.inserted == 1
    assert [r.inserted for r in again] == [0, 0, 0]
    assert len(_rows(any_db)) == 1


def test_paid_installments_closed_loans_and_opted_out_members_get_nothing(db: DbEngine) -> None:
    b = setup_borrower(db)
    other = setup_borrower(db, phone="+254711000002")
    closed = setup_borrower(db, phone="+254711000003")
    repay(db, b, 444_200)
    with UnitOfWork(db) as uow:
        member = uow.session.get(Member, other.member.id)
        loan = uow.session.get(Loan, closed.loan.id)
        assert member is not None and loan is not None
        member.opted_out = True
        loan.status = LoanStatus.CLOSED
        uow.session.add_all([member, loan])
        uow.commit()
    result = _plan(db, DUE)
    assert (result.candidates, result.inserted, result.skipped_opted_out) == (0, 0, 1)


def test_a_partly_paid_installment_is_reminded_of_the_rest(db: DbEngine) -> None:
    b = setup_borrower(db)
    repay(db, b, 144_200)
    _plan(db, DUE)
    (row,) = _rows(db)
    assert row.amount == 300_000 and "KES 3,000" in row.body


def test_bulk_unpaid_matches_loans_outstanding(db: DbEngine) -> None:
    borrowers = [setup_borrower(db, phone=f"+25471100001{i}") for i in range(4)]
    for i, b in enumerate(borrowers):
        if i:
            repay(db, b, 200_000 * i, reference=f"R{i}")
    with UnitOfWork(db) as uow:
        bulk = due_items.unpaid_installments(uow, [b.loan.id or 0 for b in borrowers])
        for b in borrowers:
            loan = uow.session.get(Loan, b.loan.id)
            assert loan is not None
            for due in loans.outstanding(uow, loan):
                assert bulk[due.installment.id or 0] == due.amount


def test_swahili_members_get_swahili(db: DbEngine) -> None:
    setup_borrower(db, language="sw")
    _plan(db, DUE)
    (row,) = _rows(db)
    assert row.lang == "sw" and row.body.startswith("Amina, rejesho la mkopo wako wa Umoja SACCO la KES 4,442")


def test_contributions_and_collections_are_planned(db: DbEngine) -> None:
    b = setup_borrower(db)
    with UnitOfWork(db) as uow:
        uow.session.add(ContributionPlan(org_id=b.org.id, amount=100_000, day_of_month=5))
        agent = members.register(uow, b.org, phone="+254711000099", name="Brian Otieno", role=Role.AGENT)
        agent_collections.create_collection(uow, b.org, agent.id or 0, 250_000, date(2026, 12, 4))
        uow.commit()
    result = _plan(db, date(2026, 12, 2))  # contribution -3 (due 5 Dec)
    assert result.inserted == 1
    assert _plan(db, date(2026, 12, 3)).inserted == 1  # collection -1 (due 4 Dec)
    kinds = [(r.target_kind, r.member_id) for r in _rows(db)]
    assert kinds == [(TargetKind.CONTRIBUTION, b.member.id), (TargetKind.COLLECTION, agent.id)]


def test_dry_run_writes_nothing_and_marks_what_is_new(db: DbEngine) -> None:
    setup_borrower(db)
    with UnitOfWork(db) as uow:
        umoja = orgs.get_org(uow, "umoja")
        dry = reminders.plan(uow, umoja, DUE, local(DUE, 0, 5), dry_run=True)
    assert dry.inserted == 1 and dry.rows[0]["new"] is True
    assert _rows(db) == []


@pytest.mark.parametrize(
    ("hour", "expected_hour", "next_day"),
    [(0, 8, False), (7, 8, False), (8, 8, False), (13, 13, False), (19, 19, False), (20, 8, True), (23, 8, True)],
)
def test_quiet_hours_push_to_the_morning(db: DbEngine, hour: int, expected_hour: int, next_day: bool) -> None:
    b = setup_borrower(db)
    at = quiet_hours.next_allowed(b.org, local(DUE, hour, 30 if hour == 13 else 0))
    want_day = DUE + timedelta(days=1) if next_day else DUE
    assert at.astimezone(quiet_hours.ZoneInfo("Africa/Nairobi")).date() == want_day
    assert at.astimezone(quiet_hours.ZoneInfo("Africa/Nairobi")).hour == expected_hour


def test_templates_are_validated() -> None:
    with pytest.raises(Invalid) as err:
        reminder_rules.validate_template("Pay {amount} by {deadline}", "template_en")
    assert err.value.field == "template_en" and "deadline" in err.value.message
    with pytest.raises(Invalid):
        reminder_rules.validate_template("Pay {amount", "template_sw")
    reminder_rules.validate_template("{name}: {amount} {due_date} {reference} {org}", "template_en")
