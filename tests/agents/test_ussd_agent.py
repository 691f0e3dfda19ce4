"""Agents over USSD through the HTTP app, in English and Swahili: sales, views, void, collections."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from bot import demo
from core.tables import AccountKind, PaymentState
from tests.agents_support import Shop
from tests.conftest import UssdPhone

CUSTOMER = "0712345678"
CUSTOMER_E164 = "+254712345678"
WORDS = {
    "en": {"lang": "1", "recorded": "Sale S-000001 recorded", "prompt": "M-Pesa prompt on 0712345678"},
    "sw": {"lang": "2", "recorded": "Mauzo S-000001 yamerekodiwa", "prompt": "ombi la M-Pesa kwenye 0712345678"},
}


def option(body: str, label: str) -> str:
    """The number in front of ``label`` on a USSD screen."""
    match = re.search(rf"(\d+)\. {re.escape(label)}", body)
    assert match, f"{label!r} not on screen:\n{body}"
    return match.group(1)


def login(phone: UssdPhone, lang: str) -> str:
    phone.dial()
    phone.send(WORDS[lang]["lang"])
    return phone.send(demo.DEMO_PIN)


def relogin(phone: UssdPhone) -> str:
    phone.dial()
    return phone.send(demo.DEMO_PIN)


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_cash_sale_with_two_items(agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    menu = login(agent_ussd, lang)
    assert "1. " + ("Log a sale" if lang == "en" else "Rekodi mauzo") in menu
    products = agent_ussd.send("1")
    assert "98 " in products  # nine products page on USSD
    assert "Quantity of Sugar 1kg" in agent_ussd.send("8") or lang == "sw"
    cart = agent_ussd.send("2")
    assert "KES 300" in cart
    agent_ussd.send("1")  # add another item
    agent_ussd.send("2")  # Bread 400g
    cart = agent_ussd.send("1")
    assert "KES 365" in cart
    agent_ussd.send("2")  # finish
    agent_ussd.send("1")  # cash
    confirm = agent_ussd.send(CUSTOMER)
    assert "KES 365" in confirm and "PIN" in confirm
    done = agent_ussd.send(demo.DEMO_PIN)
    assert done.startswith("END ") and WORDS[lang]["recorded"] in done
    assert "KES 18.25" in done  # 5% of 300 + 5% of 65 (3.25)
    sale = shop.last_sale()
    assert (sale.status, sale.total, sale.commission, sale.payment_method) == ("completed", 36_500, 1_825, "cash")
    assert shop.product("SUGAR1KG").stock == 48
    assert shop.balance(AccountKind.AGENT_CASH, sale.agent_id) == 36_500
    receipt = shop.senders.to(CUSTOMER_E164)
    assert len(receipt) == 1 and "S-000001" in receipt[0] and "KES 365" in receipt[0]
    shop.assert_books_sound()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_mpesa_sale_paid(agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    login(agent_ussd, lang)
    agent_ussd.send("1")
    agent_ussd.send("8")
    agent_ussd.send("2")
    agent_ussd.send("2")  # finish
    agent_ussd.send("2")  # M-Pesa
    agent_ussd.send(CUSTOMER)
    done = agent_ussd.send(demo.DEMO_PIN)
    assert done.startswith("END ") and WORDS[lang]["prompt"] in done
    sale = shop.last_sale()
    assert sale.status == "pending_payment" and sale.payment_id is not None
    payment = shop.payment()
    assert (payment.amount, payment.phone, payment.purpose, payment.subject) == (
        30_000,
        CUSTOMER_E164,
        "sale",
        str(sale.id),
    )
    shop.assert_books_sound()  # nothing posted while pending
    shop.settle(PaymentState.PAID)
    sale = shop.last_sale()
    assert sale.status == "completed"
    assert shop.balance(AccountKind.MPESA_CLEARING) == 30_000
    assert shop.balance(AccountKind.AGENT_CASH, sale.agent_id) == 0
    notice = shop.senders.to(demo.AGENT_PHONE)
    assert len(notice) == 1 and "S-000001" in notice[0] and "SBX" in notice[0]
    assert len(shop.senders.to(CUSTOMER_E164)) == 1
    shop.settle(PaymentState.PAID)  # a duplicate callback changes nothing
    assert len(shop.senders.to(demo.AGENT_PHONE)) == 1
    shop.assert_books_sound()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_mpesa_sale_cancelled_by_customer_stays_unpaid(agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    login(agent_ussd, lang)
    for step in ("1", "8", "3", "2", "2", CUSTOMER, demo.DEMO_PIN):
        agent_ussd.send(step)
    assert shop.product("SUGAR1KG").stock == 47
    shop.settle(PaymentState.CANCELLED, code=1032)
    sale = shop.last_sale()
    assert sale.status == "payment_failed"
    assert shop.product("SUGAR1KG").stock == 50  # the goods were not sold
    notice = shop.senders.to(demo.AGENT_PHONE)
    assert len(notice) == 1 and ("NOT paid" in notice[0] if lang == "en" else "HAYAJALIPWA" in notice[0])
    assert shop.senders.to(CUSTOMER_E164) == []
    relogin(agent_ussd)
    agent_ussd.send("2")  # today's sales
    recent = agent_ussd.send("1")
    assert "S-000001 450 " + ("unpaid" if lang == "en" else "hayajalipwa") in recent
    shop.assert_books_sound()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_todays_summary(agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    login(agent_ussd, lang)
    for step in ("1", "8", "2", "2", "1", "1", demo.DEMO_PIN):  # cash, receipt skipped
        agent_ussd.send(step)
    relogin(agent_ussd)
    summary = agent_ussd.send("2")
    if lang == "en":
        assert "Today: 1 sales, KES 300" in summary
        assert "Cash: 1, KES 300" in summary and "M-Pesa: 0, KES 0" in summary
        assert "Commission this month: KES 15" in summary
    else:
        assert "Leo: mauzo 1, KES 300" in summary and "Kamisheni mwezi huu: KES 15" in summary
    recent = agent_ussd.send("1")
    assert "S-000001 300" in recent
    agent_ussd.send("0")
    low = agent_ussd.send("2")
    assert "Cooking oil 1L" in low  # 8 on hand, threshold 10
    assert shop.senders.outbox == []  # receipt skipped with "1"


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_officer_voids_a_sale(client: TestClient, agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    login(agent_ussd, lang)
    for step in ("1", "8", "2", "2", "1", "1", demo.DEMO_PIN):
        agent_ussd.send(step)
    assert shop.product("SUGAR1KG").stock == 48
    officer = UssdPhone(client, phone="+254700000005")
    menu = login(officer, lang)
    officer.send(option(menu, "Void a sale" if lang == "en" else "Futa mauzo"))
    missing = officer.send("S-999")
    assert "S-999" in missing and "CON " in missing
    confirm = officer.send("S-000001")
    assert "Brian Otieno" in confirm and "KES 300" in confirm
    done = officer.send("1")
    assert done.startswith("END ") and "S-000001" in done
    sale = shop.last_sale()
    assert sale.status == "voided" and sale.voided_by is not None
    assert shop.product("SUGAR1KG").stock == 50
    assert shop.balance(AccountKind.SALES_REVENUE) == 0
    assert shop.balance(AccountKind.AGENT_CASH, sale.agent_id) == 0
    shop.assert_books_sound()
    login(officer, lang)
    officer.send(option(menu, "Void a sale" if lang == "en" else "Futa mauzo"))
    again = officer.send("1")  # a bare number means S-000001
    assert "S-000001" in again and "CON " in again  # already voided: asked again


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_agent_pays_a_collection(agent_ussd: UssdPhone, shop: Shop, lang: str) -> None:
    login(agent_ussd, lang)
    owed = agent_ussd.send("3")
    assert "C-000001 2,500 25/11" in owed
    confirm = agent_ussd.send("1")
    assert "0700000002" in confirm
    done = agent_ussd.send("1")
    assert done.startswith("END ") and "C-000001" in done
    payment = shop.payment()
    assert (payment.purpose, payment.amount, payment.phone) == ("collection", 250_000, demo.AGENT_PHONE)
    shop.settle(PaymentState.PAID)
    collection = shop.collection()
    assert collection.status == "paid" and collection.paid_payment_id == payment.id
    notice = shop.senders.to(demo.AGENT_PHONE)
    assert len(notice) == 1 and "C-000001" in notice[0]
    assert shop.balance(AccountKind.MPESA_CLEARING) == 250_000
    shop.assert_books_sound()
    relogin(agent_ussd)
    assert "C-000001" not in agent_ussd.send("3")


def test_bad_input_never_loses_the_sale(agent_ussd: UssdPhone, shop: Shop) -> None:
    login(agent_ussd, "en")
    agent_ussd.send("1")
    assert "Invalid choice" in agent_ussd.send("42")
    agent_ussd.send("8")
    for wrong in ("0", "10000000", "two", "-1", "1.5"):
        assert "whole number from 1 to 10,000" in agent_ussd.send(wrong)
    assert "Only 50 Sugar 1kg left" in agent_ussd.send("51")
    assert "Cart: 2 item(s), KES 300" in agent_ussd.send("2")
    agent_ussd.send("2")  # finish
    agent_ussd.send("2")  # M-Pesa
    for wrong in ("12345", "hello", "+1 555 0100"):
        assert "not a valid phone number" in agent_ussd.send(wrong)
    confirm = agent_ussd.send(CUSTOMER)
    assert "KES 300" in confirm
    assert "Wrong PIN" in agent_ussd.send("9999")
    assert "END " in agent_ussd.send(demo.DEMO_PIN)
    assert shop.last_sale().total == 30_000


def test_price_change_only_when_the_organisation_allows(agent_ussd: UssdPhone, shop: Shop) -> None:
    with shop.uow() as uow:
        org = uow.session.get(type(shop.org), shop.org.id)
        org.agents_may_change_price = True
        uow.session.add(org)
        uow.commit()
    shop.container.engine._orgs.clear()  # the engine caches organisations for a minute
    login(agent_ussd, "en")
    agent_ussd.send("1")
    agent_ussd.send("8")
    ask = agent_ussd.send("2")
    assert "list price KES 150" in ask
    assert "whole amount" in agent_ussd.send("abc")
    assert "Cart: 2 item(s), KES 280" in agent_ussd.send("140")
    for step in ("2", "1", "1"):
        agent_ussd.send(step)
    agent_ussd.send(demo.DEMO_PIN)
    sale = shop.last_sale()
    assert (sale.total, sale.commission) == (28_000, 1_400)
    shop.assert_books_sound()
