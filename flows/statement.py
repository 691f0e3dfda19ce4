"""The mini-statement: the member's last five ledger movements."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from statemachine import State

from core import ledger
from flows.base import Flow
from flows.messages import Menu

LINES = 5


class MiniStatement(Flow):
    showing = State(initial=True)

    # No choices here: only 0 (back) and 00 (main menu), which the engine handles.
    refresh = showing.to.itself(internal=True)

    def screen_showing(self) -> Menu:
        assert self.convo.member_id is not None
        zone = ZoneInfo(self.ctx.org.timezone)
        with self.ctx.uow() as uow:
            lines = ledger.statement(uow, self.convo.member_id, limit=LINES)
        if not lines:
            return Menu(self.t("statement.empty"), ())
        rows = [
            f"{line.at.astimezone(zone):%d/%m} {'+' if line.amount > 0 else '-'}"
            f"{self.amount(abs(line.amount))[4:]} {line.memo[:11]}"
            for line in lines
        ]
        return Menu(self.t("statement.title") + "\n" + "\n".join(rows), ())
