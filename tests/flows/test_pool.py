"""Flow machines reused across hops: each hop sees only its own conversation and context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from statemachine import State

from core.clock import FixedClock
from core.tables import Organisation
from flows.base import Flow
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.messages import End, Menu, Message, Option
from flows.pool import MAX_IDLE, FlowPool, quiet_initial_state
from flows.registry import FLOWS


class Counter(Flow):
    """Counts its entries and its presses in the conversation's data; 'stop' ends it."""

    counting = State(initial=True)
    stopped = State(final=True)

    press = counting.to.itself(internal=True, on="count")
    stop = counting.to(stopped)

    def on_enter_counting(self) -> None:
        self.data["entered"] = self.data.get("entered", 0) + 1

    def count(self) -> None:
        self.data["presses"] = self.data.get("presses", 0) + 1
        self.data["org"] = self.ctx.org.name

    def screen_counting(self) -> Message:
        return Menu(f"{self.convo.phone}: {self.data.get('presses', 0)}", (Option("press", "Press"),))

    def screen_stopped(self) -> Message:
        return End("bye")


def _convo(phone: str, state: str | None = None) -> Conversation:
    return Conversation(key=phone, org_id=1, channel="ussd", phone=phone, flow="counter", state=state)


def _ctx(name: str) -> FlowContext:
    org = Organisation(id=1, name=name, slug=name.lower())
    return FlowContext(org=org, uow_factory=_no_db, clock=FixedClock(datetime(2026, 11, 22, tzinfo=UTC)))


def _no_db() -> Any:
    raise AssertionError("no database here")


def test_a_reused_machine_serves_only_the_conversation_it_is_seated_on() -> None:
    pool = FlowPool()
    first, second = _convo("+254700000001"), _convo("+254700000002")
    with pool.lease() as lease:
        flow = lease.take(Counter, first, _ctx("Alpha"))
        flow.send("press")
    assert pool.idle(Counter) == 1
    with pool.lease() as lease:
        again = lease.take(Counter, second, _ctx("Beta"))
        assert again is flow
        again.send("press")
        again.send("press")
        assert again.screen() == Menu("+254700000002: 2", (Option("press", "Press"),))
    assert first.data == {"entered": 1, "presses": 1, "org": "Alpha"}
    assert second.data == {"entered": 1, "presses": 2, "org": "Beta"}


def test_a_machine_restored_at_a_saved_state_runs_no_entry_actions() -> None:
    pool = FlowPool()
    with pool.lease() as lease:
        lease.take(Counter, _convo("+254700000001"), _ctx("Alpha"))
    saved = _convo("+254700000002", state="counting")
    with pool.lease() as lease:
        lease.take(Counter, saved, _ctx("Alpha")).send("press")
    assert saved.data == {"presses": 1, "org": "Alpha"}
    assert saved.state == "counting"


def test_a_machine_that_reached_a_final_state_is_not_reused() -> None:
    pool = FlowPool()
    convo = _convo("+254700000001")
    with pool.lease() as lease:
        flow = lease.take(Counter, convo, _ctx("Alpha"))
        flow.send("stop")
        assert flow.screen() == End("bye")
    assert convo.state == "stopped"
    assert pool.idle(Counter) == 0


def test_machines_of_a_failed_hop_are_dropped() -> None:
    pool = FlowPool()

    def failing_hop() -> None:
        with pool.lease() as lease:
            lease.take(Counter, _convo("+254700000001"), _ctx("Alpha"))
            raise RuntimeError("the hop failed")

    with pytest.raises(RuntimeError):
        failing_hop()
    assert pool.idle(Counter) == 0


def test_the_pool_keeps_a_bounded_number_of_idle_machines() -> None:
    pool = FlowPool()
    with pool.lease() as lease:
        taken = [lease.take(Counter, _convo(f"+2547000000{i:02d}"), _ctx("Alpha")) for i in range(MAX_IDLE + 3)]
    assert len({id(flow) for flow in taken}) == MAX_IDLE + 3
    assert pool.idle(Counter) == MAX_IDLE


# -- quiet starts: entering an initial state that runs nothing just sets it -----------------


class Quiet(Flow):
    waiting = State(initial=True)
    done = State(final=True)

    finish = waiting.to(done)

    def screen_waiting(self) -> Message:
        return Menu("Waiting", (Option("finish", "Finish"),))

    def screen_done(self) -> Message:
        return End("bye")


class EntersByArgument(Flow):
    waiting = State(initial=True, enter="mark")
    done = State(final=True)

    finish = waiting.to(done)

    def mark(self) -> None:
        self.data["entered"] = True


class EntersGenerically(Quiet):
    def on_enter_state(self) -> None:
        self.data["entered"] = True


class MovesAtOnce(Flow):
    arriving = State(initial=True)
    arrived = State(final=True)

    arriving.to(arrived)  # eventless: taken as soon as the state is entered


class StartsFinal(Flow):
    done = State(initial=True, final=True)


def test_an_initial_state_with_nothing_to_run_is_quiet() -> None:
    assert quiet_initial_state(Quiet) == "waiting"
    pool, convo = FlowPool(), _convo("+254700000001")
    with pool.lease() as lease:
        flow = lease.take(Quiet, convo, _ctx("Alpha"))
        assert convo.state == "waiting"
        flow.send("finish")
    assert convo.state == "done"


@pytest.mark.parametrize("cls", [Counter, EntersByArgument, EntersGenerically, MovesAtOnce, StartsFinal])
def test_initial_states_that_run_something_are_activated(cls: type[Flow]) -> None:
    assert quiet_initial_state(cls) is None


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_registered_flow_starts_quietly_only_where_activation_does_nothing_more(name: str) -> None:
    """A quiet start leaves the conversation exactly as python-statemachine's activation does."""
    cls = FLOWS[name].cls
    quiet = quiet_initial_state(cls)
    if quiet is None:
        return  # activated as usual
    activated, seated = _convo("+254700000001"), _convo("+254700000001", state=quiet)
    cls(activated, _ctx("Alpha"))
    cls(seated, _ctx("Alpha"))
    assert activated.to_json() == seated.to_json()
    assert (activated.notices, activated.goto) == (seated.notices, seated.goto)


def test_the_balance_menu_and_statement_flows_start_quietly() -> None:
    """The hops measured by bench/ussd_hop.py: opening them must not pay for an activation."""
    assert {name for name in ("balance", "menu", "statement") if quiet_initial_state(FLOWS[name].cls)} == {
        "balance",
        "menu",
        "statement",
    }
    assert quiet_initial_state(FLOWS["pay"].cls) is None  # on_enter_choosing loads the member's dues
