"""Balances: savings, shares, loan, and what is due next; all read from the ledger."""

from __future__ import annotations

from statemachine import State

from core import balances
from flows.base import Flow
from flows.messages import Menu, Option


class CheckBalance(Flow):
    showing = State(initial=True)

    statement = showing.to.itself(internal=True, on="open_statement")

    def open_statement(self) -> None:
        self.goto("statement")

    def screen_showing(self) -> Menu:
        assert self.convo.member_id is not None
        with self.ctx.uow() as uow:
            figures = balances.of_member(uow, self.ctx.org.id or 0, self.convo.member_id, self.ctx.today())
        lines = [
            self.t("balance.savings", amount=self.amount(figures.savings)),
            self.t("balance.shares", amount=self.amount(figures.shares)),
            self.t("balance.loan", amount=self.amount(figures.loan)),
        ]
        if figures.next_installment is not None:
            due = figures.next_installment
            lines.append(self.t("balance.next", amount=self.amount(due.amount), date=self.date(due.due_date)))
        return Menu("\n".join(lines), (Option("statement", self.t("balance.statement")),))
