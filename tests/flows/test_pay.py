"""The pay flow as scripted conversations: pre-filled starts, keywords, validation, the end screens."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from core.clock import FixedClock
from core.errors import Invalid
from core.payments import PaymentInProgress
from core.tables import Installment
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.messages import End, Menu, Message, Prompt, Text
from flows.pay import PayFlow
from tests.core.payments_support import World, world


class FakeStarter:
    """core.ports.PaymentStarter that records requests; ``error`` makes the next start fail."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def start(self, **request: Any) -> int:
        if self.error is not None:
            raise self.error
        keys = [r["idempotency_key"] for r in self.started]
        if request["idempotency_key"] not in keys:
            self.started.append(request)
        return len(self.started)


class Chat:
    """Drives one flow the way the engine does: rebuild around the conversation, one event per answer."""

    def __init__(self, w: World, starter: FakeStarter, channel: str = "ussd", lang: str = "en", **data: Any) -> None:
        self.convo = Conversation(
            key="k",
            org_id=w.org.id or 0,
            channel=channel,
            phone=w.member.phone,
            member_id=w.member.id,
            role="member",
            lang=lang,
            flow="pay",
            data=dict(data),
        )
        self.ctx = FlowContext(org=w.org, uow_factory=w.uow, clock=w.clock, services={"payments": starter})
        PayFlow(self.convo, self.ctx)  # entering the initial state runs its entry actions
        self.notices: list[str] = []

    def screen(self) -> Message:
        self.notices = list(self.convo.notices)
        self.convo.notices.clear()
        return PayFlow(self.convo, self.ctx).screen()

    def say(self, text: str) -> Message:
        flow = PayFlow(self.convo, self.ctx)
        screen = flow.screen()
        if isinstance(screen, Menu):
            option = screen.options[int(text) - 1]
            if option.id in {event.id for event in flow.events}:
                flow.send(option.id)
            else:
                flow.send("choose", choice=option.id)
        elif isinstance(screen, Prompt):
            flow.send(screen.expects, text=text)
        return self.screen()


@pytest.fixture
def w(db: DbEngine, clock: FixedClock) -> World:
    return world(db, clock)


@pytest.fixture
def starter() -> FakeStarter:
    return FakeStarter()


def _title(message: Message) -> str:
    return message.title if isinstance(message, Menu) else getattr(message, "body", "")


def test_reminder_pay_now_opens_at_the_confirmation(w: World, starter: FakeStarter) -> None:
    with w.uow() as uow:
        first = uow.session.exec(
            select(Installment).where(Installment.loan_id == w.loan.id, Installment.seq == 1)
        ).one()
    chat = Chat(w, starter, purpose="loan_repayment", amount=444_200, installment_id=first.id, reference="LN-0001")
    screen = chat.screen()
    assert chat.convo.state == "confirming"
    assert "Pay KES 4,442 for loan LN-0001" in _title(screen)
    done = chat.say("1")
    assert isinstance(done, End) and "KES 4,442" in done.body
    [request] = starter.started
    assert (request["purpose"], request["amount"], request["subject"]) == ("loan_repayment", 444_200, str(w.loan.id))


def test_goto_with_purpose_loan_and_one_loan(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter, purpose="loan", amount=444_200)
    assert chat.convo.state == "confirming"


def test_sms_keyword_amount_is_kept_until_the_purpose_is_chosen(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter, channel="sms", args="500")
    screen = chat.screen()
    assert chat.convo.state == "choosing" and isinstance(screen, Menu)
    confirm = chat.say("2")  # Contribution
    assert "Pay KES 500 contribution for 11/2026" in _title(confirm)
    done = chat.say("1")
    assert isinstance(done, Text)  # chat channels stay open
    assert starter.started[0]["subject"] == "2026-11"


def test_sms_keyword_with_a_bad_amount_says_so(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter, channel="sms", lang="sw", args="10.50")
    chat.screen()
    assert chat.notices == ["Weka kiasi kamili cha shilingi, kama 500."]
    assert chat.convo.state == "choosing"


def test_prefilled_amount_over_the_loan_asks_for_another(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter, purpose="loan", amount=9_000_000)
    prompt = chat.screen()
    assert chat.convo.state == "entering" and isinstance(prompt, Prompt)
    assert chat.notices == ["You owe KES 44,420 on this loan. Enter that or less."]


def test_another_amount_is_validated(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter)
    chat.say("2")  # contribution, prefilled with KES 1,000
    assert isinstance(chat.say("2"), Prompt)  # another amount
    for text, notice in [
        ("ten", "Enter a whole amount in shillings, like 500."),
        ("0", "Enter a whole amount in shillings, like 500."),
        ("9", "The least you can pay is KES 10."),
        ("150001", "The most you can pay at once is KES 150,000."),
    ]:
        assert isinstance(chat.say(text), Prompt)
        assert chat.notices == [notice], text
    assert "Pay KES 150,000 contribution" in _title(chat.say("KES 150,000"))


def test_confirming_twice_starts_one_payment(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter)
    chat.say("2")
    key_before = chat.convo.data["key"]
    flow = PayFlow(chat.convo, chat.ctx)
    flow.send("confirm")
    chat.convo.state = "confirming"  # the same hop delivered twice
    PayFlow(chat.convo, chat.ctx).send("confirm")
    assert len(starter.started) == 1 and chat.convo.data["key"] == key_before


def test_busy_member_is_told_to_check_their_phone(w: World, starter: FakeStarter) -> None:
    starter.error = PaymentInProgress(7)
    chat = Chat(w, starter, lang="sw")
    chat.say("2")
    busy = chat.say("1")
    assert isinstance(busy, End) and "Una malipo yanayosubiri" in busy.body and "dakika 3" in busy.body


def test_a_number_mpesa_cannot_prompt_is_explained(w: World, starter: FakeStarter) -> None:
    starter.error = Invalid("M-Pesa needs a Kenyan mobile number", field="phone")
    chat = Chat(w, starter)
    chat.say("2")
    again = chat.say("1")
    assert isinstance(again, Menu) and chat.convo.state == "confirming"
    assert chat.notices == ["M-Pesa payments need a Safaricom number. Please call the office."]


def test_cancel_goes_back_to_the_menu(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter)
    chat.say("1")
    flow = PayFlow(chat.convo, chat.ctx)
    flow.send("cancel")
    assert chat.convo.goto == "menu" and chat.convo.notices == ["Payment cancelled. Nothing was charged."]
    assert starter.started == []


def test_an_unknown_choice_is_explained(w: World, starter: FakeStarter) -> None:
    chat = Chat(w, starter)
    PayFlow(chat.convo, chat.ctx).send("choose", choice="loan:999")
    assert chat.convo.state == "choosing" and chat.convo.notices == ["Invalid choice."]
