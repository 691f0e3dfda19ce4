"""Flow machines kept between hops: building a python-statemachine instance is the dearest part
of a hop (it resolves every callback by name), and a flow's machine holds nothing of a
conversation but what its :class:`~flows.base.Seat` points at.

A :class:`Lease` hands out machines for one hop and puts them back when the hop is over; a hop
that raised discards its machines rather than trust their engines' queues, and a machine that
reached a final state (its engine stopped) is never reused.
"""

from __future__ import annotations

import types
from collections import defaultdict

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
