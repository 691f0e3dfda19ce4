"""Agents over WhatsApp and SMS through the engine, in English and Swahili; SMS also by keyword."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import SQLModel

from bot import demo
from bot.sessions import MemoryStore
from core.tables import AccountKind, PaymentState
from core.uow import make_engine
from flows.messages import ChannelName
from tests.agents_support import ChatPhone, Shop

CUSTOMER_E164 = "+254712345678"
OFFICER = "+254700000005"
T = {
    "en": {
        "log": "Log a sale",
        "add": "Add another",
        "finish": "Finish",
        "cash": "Cash",
        "today": "Today's sales",
        "owe": "What I owe",
        "pay": "Pay now",
        "void": "Void a sale",
        "recent": "Last 5",
        "recorded": "recorded",
        "unpaid": "NOT paid",
        "bad_qty": "whole number from 1 to 10,000",
        "bad_phone": "not a valid phone",
        "unknown": "Unknown product code XYZ",
        "sale_kw": "SALE",
        "today_kw": "TODAY",
        "owe_kw": "OWE",
    },
    "sw": {
        "log": "Rekodi mauzo",
        "add": "Ongeza",
        "finish": "Maliza",
        "cash": "Taslimu",
        "today": "Mauzo ya leo",
        "owe": "Ninachodaiwa",
        "pay": "Lipa sasa",
        "void": "Futa mauzo",
        "recent": "Mauzo 5",
        "recorded": "yamerekodiwa",
        "unpaid": "HAYAJALIPWA",
        "bad_qty": "kuanzia 1 hadi 10,000",
        "bad_phone": "si nambari sahihi",
        "unknown": "Nambari ya bidhaa XYZ haijulikani",
        "sale_kw": "UZA",
        "today_kw": "LEO",
        "owe_kw": "DENI",
    },
}


@pytest.fixture
def backend(tmp_path: Any) -> Iterator[tuple[DbEngine, Any]]:
    """Embedded only: the chat scripts test flows and wording; the USSD scripts run on both backends."""
    engine = make_engine(f"sqlite:///{tmp_path}/chat.db")
    SQLModel.metadata.create_all(engine)
    yield engine, MemoryStore()
    engine.dispose()


CASES = [(c, lang) for c in (ChannelName.WHATSAPP, ChannelName.SMS) for lang in ("en", "sw")]


def chat(shop: Shop, channel: ChannelName, lang: str, phone: str = demo.AGENT_PHONE) -> ChatPhone:
    shop.set_language(phone, lang)
    return ChatPhone(shop.container.engine, channel, phone)


def into_menu(phone: ChatPhone) -> str:
    assert "PIN" in phone.send("hi")
    return phone.send(demo.DEMO_PIN)


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_cash_sale_with_two_items(shop: Shop, channel: ChannelName, lang: str) -> None:
    words = T[lang]
    phone = chat(shop, channel, lang)
    into_menu(phone)
    assert "Sugar 1kg" in phone.choose(words["log"])
    phone.choose("Sugar 1kg")
    phone.send("2")
    phone.choose(words["add"])
    phone.choose("Bread 400g")
    assert "KES 365" in phone.send("1")
    phone.choose(words["finish"])
    phone.choose(words["cash"])
    assert "KES 365" in phone.send("0712 345 678")
    done = phone.send(demo.DEMO_PIN)
    assert phone.ended and "S-000001" in done and words["recorded"] in done
    assert shop.last_sale().commission == 1_825
    assert len(shop.senders.to(CUSTOMER_E164)) == 1
    shop.assert_books_sound()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_sms_fast_path_cash_sale_with_two_items(shop: Shop, lang: str) -> None:
    phone = chat(shop, ChannelName.SMS, lang)
    confirm = phone.send(f"{T[lang]['sale_kw']} SUGAR1KG 2 BREAD 1 {T[lang]['cash'].upper()} 0712345678")
    assert "2 x Sugar 1kg, 1 x Bread 400g" in confirm and "KES 365" in confirm and "PIN" in confirm
    done = phone.send(demo.DEMO_PIN)
    assert phone.ended and "S-000001" in done
    sale = shop.last_sale()
    assert (sale.total, sale.payment_method, sale.customer_phone) == (36_500, "cash", CUSTOMER_E164)
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_mpesa_sale_paid(shop: Shop, channel: ChannelName, lang: str) -> None:
    phone = chat(shop, channel, lang)
    if channel == ChannelName.SMS:
        assert "PIN" in phone.send("SALE SUGAR1KG 2 MPESA 0712345678")
    else:
        into_menu(phone)
        phone.choose(T[lang]["log"])
        phone.choose("Sugar 1kg")
        phone.send("2")
        phone.choose(T[lang]["finish"])
        phone.choose("M-Pesa")
        phone.send("0712345678")
    done = phone.send(demo.DEMO_PIN)
    assert phone.ended and "0712345678" in done
    assert shop.last_sale().status == "pending_payment"
    shop.settle(PaymentState.PAID)
    assert shop.last_sale().status == "completed"
    assert shop.balance(AccountKind.MPESA_CLEARING) == 30_000
    assert "S-000001" in shop.senders.to(demo.AGENT_PHONE)[0]
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_mpesa_sale_cancelled_stays_unpaid_and_says_so(shop: Shop, channel: ChannelName, lang: str) -> None:
    phone = chat(shop, channel, lang)
    phone.send(f"{T[lang]['sale_kw']} SUGAR1KG 2 MPESA 0712345678") if channel == ChannelName.SMS else None
    if channel == ChannelName.WHATSAPP:
        into_menu(phone)
        phone.choose(T[lang]["log"])
        phone.choose("Sugar 1kg")
        phone.send("2")
        phone.choose(T[lang]["finish"])
        phone.choose("M-Pesa")
        phone.send("0712345678")
    phone.send(demo.DEMO_PIN)
    shop.settle(PaymentState.CANCELLED, code=1032)
    assert shop.last_sale().status == "payment_failed"
    assert T[lang]["unpaid"] in shop.senders.to(demo.AGENT_PHONE)[0]
    assert shop.product("SUGAR1KG").stock == 50
    into_menu(phone) if channel == ChannelName.WHATSAPP else phone.send(T[lang]["today_kw"])
    if channel == ChannelName.SMS:
        phone.send(demo.DEMO_PIN)
    else:
        phone.choose(T[lang]["today"])
    recent = phone.choose(T[lang]["recent"])
    assert "S-000001 300 " in recent
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_officer_voids_a_sale(shop: Shop, channel: ChannelName, lang: str) -> None:
    agent = chat(shop, ChannelName.SMS, lang)
    agent.send("SALE SUGAR1KG 2")
    assert "S-000001" in agent.send(demo.DEMO_PIN)
    officer = chat(shop, channel, lang, OFFICER)
    into_menu(officer)
    assert "S-000123" in officer.choose(T[lang]["void"])
    officer.send("S-000001")
    done = officer.send(choice="void") if channel == ChannelName.WHATSAPP else officer.send("1")
    assert officer.ended and "S-000001" in done
    assert shop.last_sale().status == "voided"
    assert shop.balance(AccountKind.SALES_REVENUE) == 0
    assert shop.product("SUGAR1KG").stock == 50
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_todays_summary(shop: Shop, channel: ChannelName, lang: str) -> None:
    agent = chat(shop, ChannelName.SMS, lang)
    agent.send("SALE SUGAR1KG 1 MPESA 0712345678")
    agent.send(demo.DEMO_PIN)
    shop.settle(PaymentState.PAID)
    agent.send("SALE BREAD 2")
    agent.send(demo.DEMO_PIN)
    phone = chat(shop, channel, lang)
    if channel == ChannelName.SMS:
        phone.send(T[lang]["today_kw"])
        summary = phone.send(demo.DEMO_PIN)
    else:
        into_menu(phone)
        summary = phone.choose(T[lang]["today"])
    assert "KES 280" in summary  # 150 by M-Pesa + 130 cash
    assert "M-Pesa: 1, KES 150" in summary
    assert "KES 14" in summary  # commission: 7.50 + 6.50
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_agent_pays_a_collection(shop: Shop, channel: ChannelName, lang: str) -> None:
    phone = chat(shop, channel, lang)
    if channel == ChannelName.SMS:
        phone.send(T[lang]["owe_kw"])
        owed = phone.send(demo.DEMO_PIN)
    else:
        into_menu(phone)
        owed = phone.choose(T[lang]["owe"])
    assert "C-000001" in owed
    phone.choose("C-000001")
    done = phone.choose(T[lang]["pay"])
    assert phone.ended and "C-000001" in done
    shop.settle(PaymentState.PAID)
    assert shop.collection().status == "paid"
    assert "C-000001" in shop.senders.to(demo.AGENT_PHONE)[0]
    shop.assert_books_sound()


@pytest.mark.parametrize(("channel", "lang"), CASES)
def test_bad_input_is_answered_and_the_sale_kept(shop: Shop, channel: ChannelName, lang: str) -> None:
    words = T[lang]
    phone = chat(shop, channel, lang)
    if channel == ChannelName.SMS:
        picked = phone.send(f"{words['sale_kw']} XYZ 2")
        assert words["unknown"] in picked and "Sugar 1kg" in picked
    else:
        into_menu(phone)
        phone.choose(words["log"])
    phone.choose("Sugar 1kg")
    for wrong in ("0", "10000000", "ten"):
        assert words["bad_qty"] in phone.send(wrong)
    phone.send("3")
    phone.choose(words["finish"])
    phone.choose("M-Pesa")
    assert words["bad_phone"] in phone.send("0712")
    assert "KES 450" in phone.send("0712345678")
    assert "S-000001" in phone.send(demo.DEMO_PIN)
    assert shop.last_sale().total == 45_000


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_sms_fast_path_with_mistakes_keeps_what_was_right(shop: Shop, lang: str) -> None:
    phone = chat(shop, ChannelName.SMS, lang)
    assert T[lang]["bad_qty"] in phone.send("SALE SUGAR1KG 0")
    assert "KES 300" in phone.send("2")  # the cart, kept; finish it from there
    phone.choose(T[lang]["finish"])
    phone.choose(T[lang]["cash"])
    assert "PIN" in phone.send("1")  # no receipt
    phone.send(demo.DEMO_PIN)
    asked = phone.send("SALE SUGAR1KG 1 MPESA 12")
    assert T[lang]["bad_phone"] in asked
    assert "PIN" in phone.send("0712345678")
    phone.send(demo.DEMO_PIN)
    member = chat(shop, ChannelName.SMS, lang, demo.MEMBER_PHONE)
    assert "agent" in member.send("SALE SUGAR1KG 1").lower() or "mawakala" in member.last[-1].body.lower()  # type: ignore[union-attr]
    assert [s.total for s in shop.sales()] == [30_000, 15_000]
    shop.assert_books_sound()
