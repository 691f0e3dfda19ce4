"""The conversation engine: one inbound message in, the replies out.

Per message: resolve the organisation from the channel binding -> lock the conversation ->
load it -> rebuild the flow's state machine at its saved state -> send one event -> persist ->
return neutral replies for the channel to render. Flows never see channels; channels never see
flows (only their messages).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.sessions import SessionStore, Slot
from channels.base import Paginator
from channels.ussd import newest_input
from core import members, orgs
from core.clock import Clock
from core.tables import BindingKind, Member, Organisation
from core.uow import UowFactory
from flows.base import Flow
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.i18n import t
from flows.messages import (
    NAVIGATION_BACK,
    NAVIGATION_HOME,
    NAVIGATION_MORE,
    ChannelName,
    End,
    Inbound,
    Menu,
    Message,
    Option,
    Prompt,
    Text,
)
from flows.pool import FlowPool, Lease
from flows.registry import FLOWS, by_keyword
from flows.resume import CONTINUE

_logger = logging.getLogger(__name__)

MORE_IDS = frozenset({"__more__"})
BACK_IDS = frozenset({"__back__"})
MAX_REDIRECTS = 6


@dataclasses.dataclass(frozen=True, slots=True)
class Turn:
    """What one inbound message produced, ready for a channel to render."""

    messages: list[Message]
    ends: bool
    page: int = 0
    can_go_back: bool = False
    lang: str = "en"
    org_id: int | None = None
    member_id: int | None = None
    secret_input: bool = False
    """The inbound text answered a ``Prompt(secret=True)`` (a PIN): never log or store it."""


@dataclasses.dataclass(slots=True)
class _Hop:
    """What every step of one hop shares: the organisation, the flows' context, the machines taken."""

    org: Organisation
    ctx: FlowContext
    lease: Lease


@dataclasses.dataclass(slots=True)
class EngineSettings:
    ussd_ttl: int = 600
    """Seconds a USSD conversation is kept (long enough to offer resuming it)."""
    resume_window: int = 300
    """A USSD session dropped mid-flow less than this many seconds ago is offered back."""
    chat_ttl: int = 900
    """Seconds of silence after which a WhatsApp or SMS conversation starts afresh."""


class Engine:
    def __init__(
        self,
        uow_factory: UowFactory,
        store: SessionStore,
        clock: Clock,
        *,
        services: dict[str, Any] | None = None,
        settings: EngineSettings | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.uow_factory = uow_factory
        self.store = store
        self.clock = clock
        self.services = services if services is not None else {}  # shared: wired after construction
        self.settings = settings or EngineSettings()
        self.wall = wall_clock
        self._orgs: dict[tuple[str, str], tuple[float, Organisation | None]] = {}
        self._machines = FlowPool()

    # -- organisation ---------------------------------------------------------------------

    def resolve_org(self, channel: ChannelName, binding: str) -> Organisation | None:
        """The organisation bound to the address, cached for a minute (bindings rarely change)."""
        cache_key = (str(channel), binding)
        hit = self._orgs.get(cache_key)
        if hit is not None and hit[0] > self.wall():
            return hit[1]
        with self.uow_factory() as uow:
            org = orgs.resolve_binding(uow, BindingKind(str(channel)), binding)
        self._orgs[cache_key] = (self.wall() + 60, org)
        return org

    # -- the hop ----------------------------------------------------------------------------

    def handle(self, inbound: Inbound, paginator: Paginator) -> Turn:
        """One hop, blocking: for jobs (WhatsApp, SMS) and threads."""
        org = self.resolve_org(inbound.channel, inbound.binding)
        if org is None or org.id is None:
            return self._unbound(inbound)
        with self.store.locked(conversation_key(org, inbound.channel, inbound.phone_e164)) as slot:
            return self._hop(org, inbound, slot, paginator)

    async def handle_async(self, inbound: Inbound, paginator: Paginator) -> Turn:
        """One hop on the event loop (USSD): the session store's round trips are awaited, the rest
        (the flow's step and its database reads) runs inline, as it is short and mostly CPU."""
        org = self.resolve_org(inbound.channel, inbound.binding)
        if org is None or org.id is None:
            return self._unbound(inbound)
        async with self.store.alocked(conversation_key(org, inbound.channel, inbound.phone_e164)) as slot:
            return self._hop(org, inbound, slot, paginator)

    async def session_ended(self, binding: str, phone_e164: str, session_key: str, *, completed: bool) -> bool:
        """The provider says USSD session ``session_key`` is over (not a hop).

        A session that completed is closed: a redial starts afresh with nothing to resume. One that
        was dropped stays as it is, so a redial within the resume window offers to continue it.
        Returns whether the notice matched the phone's conversation.
        """
        org = self.resolve_org(ChannelName.USSD, binding)
        if org is None or org.id is None:
            return False
        async with self.store.alocked(conversation_key(org, ChannelName.USSD, phone_e164)) as slot:
            convo = Conversation.from_json(slot.data) if slot.data else None
            if convo is None or convo.provider_session != session_key:
                return False
            if completed and not convo.ended:
                convo.ended = True
                slot.save(convo.to_json(), self.settings.ussd_ttl)
            return True

    @staticmethod
    def _unbound(inbound: Inbound) -> Turn:
        _logger.warning("no organisation bound to %s %s", inbound.channel, inbound.binding)
        return Turn([End(t("en", "common.service_error"))], ends=True)

    def _hop(self, org: Organisation, inbound: Inbound, slot: Slot, paginator: Paginator) -> Turn:
        """Load, step and save the conversation in ``slot`` (its lock is held)."""
        with self._machines.lease() as lease:
            convo = Conversation.from_json(slot.data) if slot.data else None
            convo, messages = self._run(_Hop(org, self._context(org), lease), inbound, convo, paginator)
        ends = isinstance(messages[-1], End) if messages else False
        convo.ended = ends
        convo.updated_at = self.wall()
        ttl = self.settings.ussd_ttl if inbound.channel == ChannelName.USSD else self.settings.chat_ttl
        slot.save(convo.to_json(), ttl)
        return Turn(
            messages,
            ends,
            page=convo.page,
            can_go_back=bool(convo.history),
            lang=convo.lang,
            org_id=org.id,
            member_id=convo.member_id,
            secret_input=convo.secret_input,
        )

    def _context(self, org: Organisation, member: Member | None = None) -> FlowContext:
        return FlowContext(
            org=org, uow_factory=self.uow_factory, clock=self.clock, member=member, services=self.services
        )

    def _run(
        self, hop: _Hop, inbound: Inbound, convo: Conversation | None, paginator: Paginator
    ) -> tuple[Conversation, list[Message]]:
        text = inbound.text
        if inbound.channel == ChannelName.USSD and convo is not None and inbound.full_text is not None:
            if convo.provider_session == inbound.session_key:
                text = newest_input(convo.last_full_text, inbound.full_text)
        fresh = self._is_new_session(inbound, convo)
        if fresh:
            started = self._start(hop, inbound, convo)
            if isinstance(started, list):
                return self._blank(hop.org, inbound), started
            convo = started
            return convo, self._reply(hop, convo)
        assert convo is not None
        if inbound.full_text is not None:
            convo.last_full_text = inbound.full_text
        if inbound.unsupported:
            convo.notices.append(t(convo.lang, "common.unsupported"))
            return convo, self._reply(hop, convo)
        flow = self._step(hop, convo, inbound, text.strip(), paginator)
        return convo, self._reply(hop, convo, flow)

    def _blank(self, org: Organisation, inbound: Inbound) -> Conversation:
        assert org.id is not None
        return Conversation(key="", org_id=org.id, channel=str(inbound.channel), phone=inbound.phone_e164)

    def _is_new_session(self, inbound: Inbound, convo: Conversation | None) -> bool:
        if convo is None or convo.flow is None:
            return True
        shortcuts = self.services.get("shortcuts")
        if shortcuts is not None and shortcuts.forces_start(inbound):
            return True
        if inbound.channel == ChannelName.USSD:
            return convo.provider_session != inbound.session_key
        return convo.ended

    def _start(self, hop: _Hop, inbound: Inbound, previous: Conversation | None) -> Conversation | list[Message]:
        org = hop.org
        assert org.id is not None
        with self.uow_factory() as uow:
            member = members.find_by_phone(uow, org.id, inbound.phone_e164)
        if member is None or not member.active:
            return [End(t(org.default_language, "common.not_registered", org=org.name))]
        convo = Conversation(
            key=conversation_key(org, inbound.channel, inbound.phone_e164),
            org_id=org.id,
            channel=str(inbound.channel),
            phone=inbound.phone_e164,
            member_id=member.id,
            role=str(member.role),
            lang=member.language or org.default_language,
            provider_session=inbound.session_key or None,
            last_full_text=inbound.full_text or "",
        )
        if previous is not None and self._resumable(inbound, previous):
            convo.suspended = {"flow": previous.flow, "state": previous.state, "data": previous.data}
            convo.authenticated_until = previous.authenticated_until
            self._open(hop, convo, "resume", {})
            return convo
        if inbound.channel != ChannelName.USSD and previous is not None:
            # A chat conversation that merely ended keeps its PIN unlock for its short lifetime.
            convo.authenticated_until = previous.authenticated_until
        shortcuts = self.services.get("shortcuts")
        shortcut = shortcuts.match(org, member, inbound) if shortcuts is not None else None
        if shortcut is not None:  # e.g. "1" / "Pay now" / a USSD dial after a reminder: the pay flow
            self._open(hop, convo, *shortcut)
            return convo
        if inbound.channel != ChannelName.USSD and not inbound.choice_id:
            keyword = self._keyword(hop, convo, inbound.text)
            if keyword is not None:
                return convo
        start = "language" if member.language is None else "menu"
        self._open(hop, convo, start, {"then": "menu"} if start == "language" else {})
        return convo

    def _resumable(self, inbound: Inbound, previous: Conversation) -> bool:
        return (
            inbound.channel == ChannelName.USSD
            and not previous.ended
            and previous.flow not in (None, "menu", "resume", "pin", "language")
            and self.wall() - previous.updated_at <= self.settings.resume_window
        )

    def _keyword(self, hop: _Hop, convo: Conversation, text: str) -> str | None:
        word, _, rest = text.strip().partition(" ")
        spec = by_keyword(word)
        if spec is None:
            return None
        self._open(hop, convo, spec.name, {"args": rest.strip()})
        return spec.name

    # -- navigation and dispatch ------------------------------------------------------------

    def _flow(self, hop: _Hop, convo: Conversation) -> Flow:
        return hop.lease.take(FLOWS[convo.flow or "menu"].cls, convo, hop.ctx)

    def _open(self, hop: _Hop, convo: Conversation, name: str, data: dict[str, Any]) -> Flow | None:
        """Switch to flow ``name`` at its start, asking for the PIN first when it needs one.

        Returns the flow it built (entering its initial state runs its actions), for reuse.
        """
        for _ in range(MAX_REDIRECTS):
            if name == CONTINUE and convo.suspended:
                saved, convo.suspended = convo.suspended, None
                convo.flow, convo.state, convo.data = saved["flow"], saved["state"], dict(saved["data"])
                convo.page = 0
                if FLOWS[convo.flow].needs_pin and not self._unlocked(convo):
                    name, data = convo.flow, dict(convo.data)
                    convo.state = None
                    continue
                return None
            spec = FLOWS.get(name)
            if spec is None:
                _logger.error("flow %r is not registered", name)
                name, data = "menu", {}
                continue
            if spec.needs_pin and not self._unlocked(convo):
                name, data = "pin", {"then": name, "then_data": data}
                spec = FLOWS["pin"]
            convo.flow, convo.data, convo.page, convo.goto = name, dict(data), 0, None
            start = getattr(spec.cls, "start_state", None)
            convo.state = start() if callable(start) else None
            flow = hop.lease.take(spec.cls, convo, hop.ctx)  # entering the initial state runs its actions
            if convo.goto is None:
                return flow
            name, data = convo.goto, dict(convo.data)
            convo.goto = None
        convo.flow, convo.state, convo.data = "menu", None, {}
        return None

    def _unlocked(self, convo: Conversation) -> bool:
        return convo.authenticated_until > self.wall()

    def _step(self, hop: _Hop, convo: Conversation, inbound: Inbound, text: str, paginator: Paginator) -> None:
        if text == NAVIGATION_HOME:
            convo.history.clear()
            self._open(hop, convo, "menu", {})
            return
        flow = self._flow(hop, convo)
        screen = flow.screen()
        if isinstance(screen, Menu) and (text == NAVIGATION_MORE or inbound.choice_id in MORE_IDS):
            if convo.page + 1 < paginator.page_count(screen, convo.lang, bool(convo.history)):
                convo.page += 1
            else:
                convo.notices.append(t(convo.lang, "common.invalid_choice"))
            return
        if not inbound.choice_id and convo.channel != ChannelName.USSD:
            anywhere = by_keyword(text)
            if anywhere is not None and anywhere.anywhere:  # STOP, START, HELP, whatever the flow
                convo.history.clear()
                return self._open(hop, convo, anywhere.name, {})
        # On a prompt "0" is an answer (a quantity, an amount); prompts offer no Back option.
        if (text == NAVIGATION_BACK and not isinstance(screen, Prompt)) or inbound.choice_id in BACK_IDS:
            if convo.page > 0:
                convo.page -= 1
            elif convo.history:
                convo.flow, convo.state = convo.history.pop()
            return
        if not inbound.choice_id and convo.channel != ChannelName.USSD and convo.flow == "menu":
            if self._keyword(hop, convo, text):
                return
        before = (convo.flow or "menu", convo.state or "")
        if isinstance(screen, Menu):
            option = choose(screen, inbound.choice_id, text)
            if option is None:
                # On chat channels a keyword ("BAL", "PAY 500") is welcome on any menu, not only the main one.
                if not inbound.choice_id and convo.channel != ChannelName.USSD and self._keyword(hop, convo, text):
                    return None
                convo.notices.append(t(convo.lang, "common.invalid_choice"))
                return flow
            events = {event.id for event in flow.events}
            if option.id in events:
                flow.send(option.id)
            else:
                flow.send("choose", choice=option.id)
        elif isinstance(screen, Prompt):
            convo.secret_input = screen.secret
            flow.send(screen.expects, text=text)
        else:
            return self._open(hop, convo, "menu", {})
        if convo.goto is not None:
            target, data = convo.goto, dict(convo.data)
            convo.goto = None
            flow = self._open(hop, convo, target, data)  # type: ignore[assignment]
        after = (convo.flow or "menu", convo.state or "")
        if after != before and before[0] not in ("pin", "resume", "language"):
            convo.history.append(list(before))
            del convo.history[:-10]
        if after != before:
            convo.page = 0
        return flow

    def _reply(self, hop: _Hop, convo: Conversation, flow: Flow | None = None) -> list[Message]:
        if flow is None or flow.convo is not convo or type(flow) is not FLOWS[convo.flow or "menu"].cls:
            flow = self._flow(hop, convo)
        screen = flow.screen()
        notes: list[Message] = [Text(note) for note in convo.notices]
        convo.notices.clear()
        return [*notes, screen]


def conversation_key(org: Organisation, channel: str, phone_e164: str) -> str:
    """One conversation per organisation, channel and phone; the session store's key for it."""
    return f"{org.id}:{channel}:{phone_e164}"


def choose(menu: Menu, choice_id: str | None, text: str) -> Option | None:
    """The option the user meant: a tapped id, a global number, or the label typed out."""
    if choice_id:
        found = next((o for o in menu.options if o.id == choice_id), None)
        if found is not None:
            return found
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(menu.options):
            return menu.options[number - 1]
        return None
    lowered = text.casefold()
    return next((o for o in menu.options if lowered and o.label.casefold() == lowered), None)
