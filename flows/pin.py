"""Entering, setting and changing the 4-digit PIN.

The PIN itself never leaves this hop: it is not stored in the conversation, logged or echoed.
Between "choose" and "confirm" only an argon2 hash of the first entry is kept.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from statemachine import State

from core import pins
from core.errors import Invalid, PinLocked, PinNotSet, WrongPin
from core.tables import Member
from flows.base import Flow
from flows.messages import End, Prompt

SESSION_MINUTES = 10
"""How long a verified PIN unlocks a chat conversation (a USSD session ends sooner)."""


class PinFlow(Flow):
    entering = State(initial=True)
    choosing = State()
    confirming = State()
    locked = State(final=True)

    enter_pin = entering.to.itself(internal=True, on="check_pin")
    pin_not_set = entering.to(choosing)
    pin_locked = entering.to(locked)
    choose_pin = choosing.to(confirming, cond="pin_is_acceptable", on="remember_choice") | choosing.to.itself(
        internal=True, on="explain_rules"
    )
    confirm_pin = confirming.to.itself(internal=True, on="save_pin")
    mismatch = confirming.to(choosing)

    # guards

    def pin_is_acceptable(self, text: str = "") -> bool:
        try:
            pins.check_new_pin(text.strip())
        except Invalid:
            return False
        return True

    # actions

    def check_pin(self, text: str = "") -> None:
        with self.ctx.uow() as uow:
            member = uow.session.get(Member, self.convo.member_id)
            assert member is not None
            try:
                pins.verify_pin(member, self.ctx.org, text.strip(), self.ctx.clock)
            except PinNotSet:
                self.raise_("pin_not_set")
                return
            except WrongPin as wrong:
                self.notice(self.t("pin.wrong", left=wrong.attempts_left))
                return
            except PinLocked as lock:
                self.data["locked_until"] = f"{lock.until.astimezone(ZoneInfo(self.ctx.org.timezone)):%H:%M}"
                self.raise_("pin_locked")
                return
            finally:
                uow.session.add(member)
                uow.commit()
        self.unlock()

    def remember_choice(self, text: str = "") -> None:
        self.data["choice_hash"] = pins.hash_pin(text.strip())

    def explain_rules(self) -> None:
        self.notice(self.t("pin.rules"))

    def save_pin(self, text: str = "") -> None:
        first = self.data.pop("choice_hash", None)
        if first is None or not pins.matches(first, text.strip()):
            self.notice(self.t("pin.mismatch"))
            self.raise_("mismatch")
            return
        with self.ctx.uow() as uow:
            member = uow.session.get(Member, self.convo.member_id)
            assert member is not None
            pins.set_pin(member, text.strip())
            uow.session.add(member)
            uow.commit()
        self.notice(self.t("pin.saved"))
        self.unlock()

    def unlock(self) -> None:
        self.convo.authenticated_until = time.time() + SESSION_MINUTES * 60
        self.goto(self.data.get("then", "menu"), **self.data.get("then_data", {}))

    # screens

    def screen_entering(self) -> Prompt:
        return Prompt(self.t("pin.enter"), expects="enter_pin", secret=True)

    def screen_choosing(self) -> Prompt:
        return Prompt(self.t("pin.choose"), expects="choose_pin", secret=True)

    def screen_confirming(self) -> Prompt:
        return Prompt(self.t("pin.confirm"), expects="confirm_pin", secret=True)

    def screen_locked(self) -> End:
        until = self.data.get("locked_until", "")
        return End(self.t("pin.locked", minutes=self.ctx.org.pin_lock_minutes, until=until))


class ChangePin(PinFlow):
    """Choose a new PIN; the engine asks for the current one first (the flow needs a PIN)."""

    @classmethod
    def start_state(cls) -> str:
        return "choosing"
