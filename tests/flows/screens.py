"""Every screen of every flow, in every language, for the screen-limit tests of each channel.

A flow with states that need scratch data to render declares ``SCREEN_EXAMPLES`` on its class:
``{"state": {"key": value}}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from core.clock import FixedClock
from core.tables import Member, Organisation
from core.uow import UnitOfWork
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.i18n import LANGUAGES
from flows.messages import Message
from flows.registry import SPECS


def all_screens(
    db: DbEngine, org: Organisation, members: list[Member], clock: FixedClock
) -> Iterator[tuple[str, Message]]:
    """Yield ``(label, screen)`` for each flow state, language and member role that can reach it."""
    for spec in SPECS:
        for state in spec.cls.states:
            examples: dict[str, Any] = getattr(spec.cls, "SCREEN_EXAMPLES", {}).get(state.id, {})
            for lang in LANGUAGES:
                for member in members:
                    if str(member.role) not in spec.roles:
                        continue
                    convo = Conversation(
                        key="k",
                        org_id=org.id or 0,
                        channel="ussd",
                        phone=member.phone,
                        member_id=member.id,
                        role=str(member.role),
                        lang=lang,
                        flow=spec.name,
                        state=state.id,
                        data=dict(examples),
                    )
                    ctx = FlowContext(org=org, uow_factory=lambda: UnitOfWork(db), clock=clock, member=member)
                    flow = spec.cls(convo, ctx)
                    yield f"{spec.name}.{state.id}[{lang},{member.role}]", flow.screen()
