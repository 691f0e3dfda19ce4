"""The base of every conversation flow: a python-statemachine chart around a Conversation.

A flow declares states, then events as transitions, then guards, then actions, and one
``screen_<state>`` method per state that says what the user sees there. The engine:

* builds the flow around the saved conversation (``Flow(convo, ctx)``; no pickling), or takes
  one built for an earlier hop from a :class:`FlowPool` and seats this hop's conversation in it,
* asks :meth:`Flow.screen` for the current screen,
* turns the user's answer into an event: a :class:`~flows.messages.Menu` option's ``id`` is the
  event name; a :class:`~flows.messages.Prompt` sends its ``expects`` event with ``text=``,
* then saves ``convo.state`` and ``convo.data``.

A flow leaves by setting ``convo.goto`` (another flow's name, or ``"menu"``) or by reaching a
final state, whose screen is an :class:`~flows.messages.End`.
"""

from __future__ import annotations

from typing import Any

from statemachine import StateChart

from core import money
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.i18n import t
from flows.messages import Message


class Seat:
    """A flow's model: the conversation of the hop the flow is serving.

    python-statemachine keeps the current state on its model (``state_field``) and reads it from
    there on every step, so passing ``state`` through to the seated conversation lets one machine
    serve hop after hop (building a machine costs more than a whole hop's other work).
    """

    __slots__ = ("convo",)

    def __init__(self, convo: Conversation) -> None:
        self.convo = convo

    @property
    def state(self) -> str | None:
        return self.convo.state

    @state.setter
    def state(self, value: str | None) -> None:
        self.convo.state = value


class Flow(StateChart[Seat]):
    """Base of every flow; its registry name lives in flows/registry.py (StateChart owns ``name``)."""

    # Unknown input re-prompts instead of raising; errors in actions propagate to the engine.
    allow_event_without_transition = True
    catch_errors_as_events = False
    enable_self_transition_entries = False
    # Conversations loop (menus, re-prompts) and most leave by ``goto`` rather than a final state.
    validate_final_reachability = False

    def __init__(self, convo: Conversation, ctx: FlowContext, **kwargs: Any) -> None:
        self.ctx = ctx
        super().__init__(model=Seat(convo), state_field="state", **kwargs)

    def reseat(self, convo: Conversation, ctx: FlowContext) -> None:
        """Serve another hop: its conversation (and state) and its context, nothing kept from before.

        Entering the initial state, when ``convo`` has none yet, is the caller's next step.
        """
        self.model.convo = convo
        self.ctx = ctx

    @property
    def convo(self) -> Conversation:
        return self.model.convo

    @property
    def data(self) -> dict[str, Any]:
        return self.model.convo.data

    def t(self, key: str, /, **values: object) -> str:
        return t(self.convo.lang, key, **values)

    def amount(self, minor: int) -> str:
        return money.format_amount(minor, self.ctx.org.currency)

    def date(self, day: Any) -> str:
        return f"{day:%d/%m/%Y}"

    def notice(self, text: str) -> None:
        """Show ``text`` before the next screen (an error, a confirmation)."""
        self.convo.notices.append(text)

    def goto(self, flow: str, **data: Any) -> None:
        """Leave this flow for ``flow`` (``"menu"`` for the main menu) after this hop."""
        self.convo.goto = flow
        self.convo.data = dict(data)

    def screen(self) -> Message:
        state = self.convo.state
        render = getattr(self, f"screen_{state}", None)
        if render is None:
            raise LookupError(f"{type(self).__name__} has no screen for state {state!r}")
        result: Message = render()
        return result
