"""The main menu: one option per flow the member's role may use, built from the registry."""

from __future__ import annotations

from statemachine import State

from flows.base import Flow
from flows.messages import Menu, Option


class MainMenu(Flow):
    choosing = State(initial=True)

    choose = choosing.to.itself(internal=True, on="open_flow")

    def open_flow(self, choice: str) -> None:
        self.goto(choice)

    def screen_choosing(self) -> Menu:
        from flows.registry import menu_entries

        options = tuple(Option(spec.name, self.t(spec.label)) for spec in menu_entries(self.convo.role))
        return Menu(self.t("menu.title", org=self.ctx.org.name), options)
