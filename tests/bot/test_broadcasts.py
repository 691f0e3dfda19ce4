"""Broadcasts and the officers' weekly summary: same routing, quiet hours, opt-out and pacing as reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import summaries
from bot.bootstrap import Container
from bot.delivery import Delivery, DeliveryConfig
from bot.jobs import reminders as jobs
from core import broadcasts, members
from core.clock import FixedClock
from core.errors import Invalid, NotFound
from core.tables import Broadcast, BroadcastMessage, BroadcastState, Member, Role
from tests.reminders_support import DUE, FakeSenders, local, repay, setup_borrower


@pytest.fixture
def fakes() -> FakeSenders:
    return FakeSenders(whatsapp_enabled=False)


@pytest.fixture
def delivery(container: Container, fakes: FakeSenders) -> Delivery:
    built = Delivery(container.uow, container.clock, container.queue, fakes, config=DeliveryConfig(rates={}))
    container.services["delivery"] = built
    return built


def _people(container: Container) -> dict[str, Member]:
    b = setup_borrower(container.db)
    with container.uow() as uow:
        org = b.org
        people = {
            "amina": b.member,
            "chebet": members.register(uow, org, phone="+254711000020", name="Chebet Kiprono", language="sw"),
            "david": members.register(uow, org, phone="+254711000021", name="David Mwangi"),
            "brian": members.register(uow, org, phone="+254711000022", name="Brian Otieno", role=Role.AGENT),
            "esther": members.register(uow, org, phone="+254711000023", name="Esther Achieng", role=Role.OFFICER),
        }
        people["david"].opted_out = True
        uow.commit()
    return people


def _send(container: Container, **fields: object) -> Broadcast:
    with container.uow() as uow:
        from core import orgs

        made = broadcasts.create(uow, orgs.get_org(uow, "umoja"), now=container.clock.now(), **fields)  # type: ignore[arg-type]
        uow.commit()
        return made


def test_broadcast_to_all_respects_opt_out_and_language(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    people = _people(container)
    clock.at = local(DUE, 10)
    made = _send(container, audience="all", body_en="AGM on Saturday at 10.", body_sw="Mkutano Jumamosi saa nne.")
    jobs.dispatch_reminders()
    got = {s.to: s.body for s in fakes.sent}
    assert people["david"].phone not in got
    assert got[people["chebet"].phone] == "Mkutano Jumamosi saa nne."
    assert got[people["amina"].phone] == "AGM on Saturday at 10."
    assert len(got) == 4
    with container.uow() as uow:
        final = uow.session.get(Broadcast, made.id)
    assert final is not None
    assert (final.state, final.recipients, final.sent, final.skipped) == (BroadcastState.DONE, 5, 4, 1)


def test_broadcast_made_at_night_waits_for_the_morning(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    _people(container)
    clock.at = local(DUE, 22)
    _send(container, audience="role", role="officer", body_en="Board meeting tomorrow.")
    jobs.dispatch_reminders()
    assert fakes.sent == []
    clock.at = local(DUE + timedelta(days=1), 7, 59)
    jobs.dispatch_reminders()
    assert fakes.sent == []
    clock.at = local(DUE + timedelta(days=1), 8)
    jobs.dispatch_reminders()
    assert [s.body for s in fakes.sent] == ["Board meeting tomorrow."]


def test_broadcast_to_a_list_and_to_a_role(container: Container, delivery: Delivery, fakes: FakeSenders) -> None:
    people = _people(container)
    container.clock.at = local(DUE, 10)  # type: ignore[attr-defined]
    _send(container, audience="list", member_ids=[people["brian"].id, people["amina"].id], body_en="Hello")
    _send(container, audience="role", role="agent", body_en="Stock arrives Monday")
    jobs.dispatch_reminders()
    assert sorted((s.to, s.body) for s in fakes.sent) == sorted(
        [
            (people["brian"].phone, "Hello"),
            (people["amina"].phone, "Hello"),
            (people["brian"].phone, "Stock arrives Monday"),
        ]
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"audience": "everyone", "body_en": "x"}, "audience"),
        ({"audience": "all", "body_en": "  "}, "body_en"),
        ({"audience": "all", "body_en": "x" * 641}, "body_en"),
        ({"audience": "role", "role": "king", "body_en": "x"}, "role"),
        ({"audience": "list", "member_ids": [], "body_en": "x"}, "member_ids"),
    ],
)
def test_bad_broadcasts_name_the_field(container: Container, fields: dict[str, object], field: str) -> None:
    _people(container)
    with pytest.raises(Invalid) as err:
        _send(container, **fields)
    assert err.value.field == field


def test_a_list_with_a_stranger_is_refused(container: Container) -> None:
    _people(container)
    with pytest.raises(NotFound) as err:
        _send(container, audience="list", member_ids=[999_999], body_en="x")
    assert err.value.field == "member_ids"


def test_cancelling_withdraws_what_has_not_gone(container: Container, delivery: Delivery, fakes: FakeSenders) -> None:
    _people(container)
    container.clock.at = local(DUE, 23)  # type: ignore[attr-defined]
    made = _send(container, audience="all", body_en="Oops")
    with container.uow() as uow:
        broadcasts.cancel(uow, made.org_id, made.id or 0)
        uow.commit()
    container.clock.at = local(DUE + timedelta(days=1), 9)  # type: ignore[attr-defined]
    jobs.dispatch_reminders()
    assert fakes.sent == []
    with container.uow() as uow:
        states = {str(m.state) for m in uow.session.exec(select(BroadcastMessage))}
    assert states == {"cancelled"}


def test_weekly_summary_goes_to_officers_once(
    container: Container, delivery: Delivery, fakes: FakeSenders, clock: FixedClock
) -> None:
    people = _people(container)
    b_loan_member = people["amina"]
    clock.at = local(DUE + timedelta(days=3), 9)  # the installment is 3 days late
    repay(container.db, setup_borrower(container.db, phone="+254711000030"), 444_200)
    assert jobs.send_officer_summaries() == 1
    assert jobs.send_officer_summaries() == 0  # same week: nothing new
    (sent,) = fakes.sent
    assert sent.to == people["esther"].phone
    lines = sent.body.splitlines()
    assert lines[0] == "Umoja SACCO: weekly summary for 2026-11"
    assert "Overdue loans: 1 members, KES 4,442:" in lines
    assert f"- Amina Wanjiru ({b_loan_member.member_no}) KES 4,442 since 27/11" in lines
    assert lines[-1] == "Loan principal outstanding: KES 12,000."


def test_summary_renders_in_swahili(container: Container) -> None:
    b = setup_borrower(container.db)
    with container.uow() as uow:
        from core import summaries as core_summaries

        figures = core_summaries.weekly(uow, b.org, DUE + timedelta(days=1))
    text = summaries.render(figures, b.org, "sw")
    assert text.startswith("Umoja SACCO: muhtasari wa wiki wa 2026-11")
    assert "Mikopo iliyochelewa: wanachama 1, KES 4,442:" in text
