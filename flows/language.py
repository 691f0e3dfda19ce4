"""Choosing the conversation language; remembered on the member for next time."""

from __future__ import annotations

from statemachine import State

from core.tables import Member
from flows.base import Flow
from flows.i18n import LANGUAGES
from flows.messages import Menu, Option

_NAMES = {"en": "English", "sw": "Kiswahili"}


class ChooseLanguage(Flow):
    choosing = State(initial=True)

    choose = choosing.to.itself(internal=True, cond="is_language", on="set_language")

    def is_language(self, choice: str) -> bool:
        return choice in LANGUAGES

    def set_language(self, choice: str) -> None:
        self.convo.lang = choice
        if self.convo.member_id is not None:
            with self.ctx.uow() as uow:
                member = uow.session.get(Member, self.convo.member_id)
                if member is not None:
                    member.language = choice
                    uow.session.add(member)
                    uow.commit()
        self.notice(self.t("language.saved"))
        self.goto(self.data.get("then", "menu"))

    def screen_choosing(self) -> Menu:
        title = f"{self.t('common.welcome', org=self.ctx.org.name)}\n{self.t('language.title')}"
        return Menu(title, tuple(Option(code, _NAMES[code]) for code in LANGUAGES))
