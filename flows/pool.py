"""Flow machines kept between hops: building a python-statemachine instance costs 50-100 us
(it resolves every callback by name), more than most of a hop's own work, and a flow's machine
holds nothing of a conversation but what its :class:`~flows.base.Seat` points at.

A :class:`Lease` hands out machines for one hop and puts them back when the hop is over; a hop
that raised discards its machines rather than trust their engines' queues, and a machine that
reached a final state (its engine stopped) is never reused.

Opening a flow enters its initial state. When that state has nothing to run on entry
(:func:`quiet_initial_state`), the conversation is simply put in it, which is all
python-statemachine's activation would do there, at a fraction of its cost (it builds an
initial transition and runs a whole macrostep); otherwise the machine is activated as usual.
"""

from __future__ import annotations

import types
from collections import defaultdict
from functools import cache

from flows.base import Flow
from flows.context import FlowContext
from flows.conversation import Conversation

MAX_IDLE = 8
"""Idle machines kept per flow class: one per hop running at once is all that is ever reused."""


class FlowPool:
    """Idle machines by flow class. Safe across threads: ``list.pop`` and ``append`` are atomic."""

    def __init__(self) -> None:
        self._idle: defaultdict[type[Flow], list[Flow]] = defaultdict(list)

    def lease(self) -> Lease:
        return Lease(self)

    def take(self, cls: type[Flow], convo: Conversation, ctx: FlowContext) -> Flow:
        """A machine of ``cls`` seated on ``convo``; entering the initial state runs its actions."""
        if convo.state is None:
            convo.state = quiet_initial_state(cls)
        try:
            flow = self._idle[cls].pop()
        except IndexError:
            return cls(convo, ctx)
        flow.reseat(convo, ctx)
        if convo.state is None:
            flow.activate_initial_state()
        return flow

    def give_back(self, flow: Flow) -> None:
        idle = self._idle[type(flow)]
        if not flow.is_terminated and len(idle) < MAX_IDLE:
            idle.append(flow)

    def idle(self, cls: type[Flow]) -> int:
        return len(self._idle[cls])


@cache
def quiet_initial_state(cls: type[Flow]) -> str | None:
    """The value of ``cls``'s initial state if entering it runs nothing, else ``None``.

    Nothing runs when the state is atomic and not final, has no entry or invoke callback (given
    to the state, or named by convention: ``on_enter_<id>``, ``on_enter_state``...), no eventless
    transition leaves it, and the class has no listeners and no ``prepare_event``. In any doubt
    the answer is ``None`` and the machine is activated as usual; tests/flows/test_pool.py checks
    the answer for every registered flow.
    """
    state = cls.initial_state
    if state is None or state.final or not state.is_atomic or not isinstance(state.value, str):
        return None
    if getattr(cls, "_class_listeners", None) or getattr(cls, "listeners", None):
        return None
    by_convention = ("on_enter_state", f"on_enter_{state.id}", "on_invoke_state", f"on_invoke_{state.id}")
    if any(hasattr(cls, name) for name in (*by_convention, "prepare_event")):
        return None
    if any(not spec.is_convention for spec in (*state.enter, *state.invoke)):
        return None
    if any(transition.is_eventless for transition in state.transitions):
        return None
    return state.value


class Lease:
    """The machines one hop took; all go back (or, after an error, away) when the hop ends."""

    def __init__(self, pool: FlowPool) -> None:
        self.pool = pool
        self.taken: list[Flow] = []

    def take(self, cls: type[Flow], convo: Conversation, ctx: FlowContext) -> Flow:
        flow = self.pool.take(cls, convo, ctx)
        self.taken.append(flow)
        return flow

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: types.TracebackType | None
    ) -> None:
        taken, self.taken = self.taken, []
        if kind is not None:
            return
        for flow in taken:
            self.pool.give_back(flow)
