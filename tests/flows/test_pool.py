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
from flows.pool import MAX_IDLE, FlowPool


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
