"""SMS and WhatsApp keywords that work anywhere: STOP / ACHA, START / ANZA, HELP / MSAADA.

Opting out is one record per member shared by every channel (``Member.opted_out``): reminders
and broadcasts stop, while the member can still use the service by writing in. Each flow does its
work on entering its only state and ends the conversation with one message.
"""

from __future__ import annotations

from statemachine import State

from core import members
from core.tables import Member
from flows.base import Flow
from flows.messages import End


class _Choice(Flow):
    """Set the member's opt-out record to ``OPTED_OUT`` and say so."""

    OPTED_OUT = True
    MESSAGE = ""

    done = State(initial=True, final=True)

    def on_enter_done(self) -> None:
        if self.convo.member_id is None:
            return
        with self.ctx.uow() as uow:
            member = uow.session.get(Member, self.convo.member_id)
            if member is not None and members.set_opt_out(uow, member, self.OPTED_OUT):
                uow.commit()

    def screen_done(self) -> End:
        return End(self.t(self.MESSAGE, org=self.ctx.org.name))


class OptOut(_Choice):
    name = "opt_out"
    OPTED_OUT = True
    MESSAGE = "common.opted_out"


class OptIn(_Choice):
    name = "opt_in"
    OPTED_OUT = False
    MESSAGE = "common.opted_in"


class Help(Flow):
    name = "help"

    done = State(initial=True, final=True)

    def screen_done(self) -> End:
        return End(self.t("common.help", org=self.ctx.org.name))
