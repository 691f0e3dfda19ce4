"""Offered on redial after a dropped USSD session: continue where you were, or start over."""

from __future__ import annotations

from statemachine import State

from flows.base import Flow
from flows.messages import Menu, Option

CONTINUE = "__continue__"


class Resume(Flow):
    asking = State(initial=True)

    resume = asking.to.itself(internal=True, on="continue_where_left")
    restart = asking.to.itself(internal=True, on="start_over")

    def continue_where_left(self) -> None:
        self.goto(CONTINUE)

    def start_over(self) -> None:
        self.convo.suspended = None
        self.goto("menu")

    def screen_asking(self) -> Menu:
        return Menu(
            self.t("common.resume_title"),
            (
                Option("resume", self.t("common.resume_continue")),
                Option("restart", self.t("common.resume_restart")),
            ),
        )
