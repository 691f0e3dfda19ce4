"""Reply to pay: "1" by SMS, "Pay now" on WhatsApp, or a USSD dial that day opens the pay flow pre-filled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.bootstrap import Container
from bot.shortcuts import pay_data
from core import pay_offers
from core.clock import FixedClock
from core.tables import DeliveryState, Installment, Loan, Organisation, Reminder, ReminderRule, TargetKind
from flows.messages import ChannelName, Inbound
from tests.conftest import UssdPhone


def _sent_reminder(container: Container, org: Organisation, clock: FixedClock, *, hours_ago: float = 1) -> Reminder:
    with container.uow() as uow:
        loan = uow.session.exec(select(Loan)).first()
        assert loan is not None
        inst = uow.session.exec(select(Installment).where(Installment.loan_id == loan.id)).first()
        rule_id = uow.session.exec(select(ReminderRule.id)).first()
        assert inst is not None and rule_id is not None
        row = Reminder(
            org_id=org.id or 0,
            rule_id=rule_id,
            member_id=loan.member_id,
            target_kind=TargetKind.LOAN_INSTALLMENT,
            target_id=str(inst.id),
            due_date=inst.due_date,
            amount=444_200,
            reference="LN-0001",
            body="due",
            pay_now=True,
            state=DeliveryState.SENT,
            send_after=clock.now() - timedelta(hours=hours_ago),
            sent_at=clock.now() - timedelta(hours=hours_ago),
        )
        uow.session.add(row)
        uow.commit()
        return row


def _inbound(channel: ChannelName, text: str = "", choice: str | None = None, phone: str = "+254700000001") -> Inbound:
    return Inbound(
        channel=channel,
        provider="test",
        binding="*",
        phone_e164=phone,
        text=text,
        choice_id=choice,
        session_key=phone,
        provider_message_id=f"m-{text}-{choice}",
    )


def _run(container: Container, inbound: Inbound) -> list[Any]:
    class NoPages:
        def page_count(self, menu: Any, lang: str = "en", can_go_back: bool = False) -> int:
            return 1

    return container.engine.handle(inbound, NoPages()).messages


def test_ussd_dial_the_same_day_opens_the_pay_flow_once(
    container: Container, demo_org: Organisation, clock: FixedClock, phone: UssdPhone
) -> None:
    _sent_reminder(container, demo_org, clock)
    assert "Enter your 4-digit PIN" in phone.dial()  # straight to the pay flow, which asks the PIN
    assert phone.send("1234").startswith("CON Pay KES 4,442 for loan LN-0001 from M-Pesa")
    phone.send("3")  # cancel
    assert "Choose language" in phone.dial()  # the offer is used: the usual start


def test_sms_reply_1_opens_the_pay_flow(container: Container, demo_org: Organisation, clock: FixedClock) -> None:
    _sent_reminder(container, demo_org, clock)
    messages = _run(container, _inbound(ChannelName.SMS, "1"))
    assert "PIN" in messages[-1].body  # the pay flow needs the PIN first
    messages = _run(container, _inbound(ChannelName.SMS, "1234"))
    assert messages[-1].title.startswith("Pay KES 4,442 for loan LN-0001")


def test_whatsapp_pay_now_button_works_mid_conversation(
    container: Container, demo_org: Organisation, clock: FixedClock
) -> None:
    row = _sent_reminder(container, demo_org, clock, hours_ago=30)
    _run(container, _inbound(ChannelName.WHATSAPP, "hi"))  # a conversation is open
    messages = _run(container, _inbound(ChannelName.WHATSAPP, choice=pay_offers.payload(row.id or 0)))
    assert "PIN" in messages[-1].body


def test_a_reply_of_1_without_an_offer_is_just_a_menu_choice(
    container: Container, demo_org: Organisation, clock: FixedClock
) -> None:
    _sent_reminder(container, demo_org, clock, hours_ago=24)  # yesterday's: no offer today
    messages = _run(container, _inbound(ChannelName.SMS, "1"))
    assert "Choose language" in messages[-1].title  # the usual start, not the pay flow


def test_someone_elses_or_a_paid_button_opens_nothing(
    container: Container, demo_org: Organisation, clock: FixedClock
) -> None:
    row = _sent_reminder(container, demo_org, clock)
    with container.uow() as uow:
        assert pay_offers.offer_by_id(uow, demo_org, 999, row.id or 0, clock.now()) is None
        assert pay_offers.parse_payload("pay:abc") is None and pay_offers.parse_payload("menu") is None
        offer = pay_offers.offer_by_id(uow, demo_org, row.member_id, row.id or 0, clock.now())
    assert offer is not None
    data = pay_data(offer)
    assert data["purpose"] == "loan_repayment" and data["installment_id"] == int(row.target_id)
