"""Whole USSD sessions through the HTTP app, as Africa's Talking drives them."""

from __future__ import annotations

from tests.conftest import UssdPhone


def test_member_walks_language_pin_balances(phone: UssdPhone) -> None:
    assert "Choose language" in phone.dial()
    assert "Enter your 4-digit PIN" in phone.send("1")
    menu = phone.send("1234")
    assert "1. Balances" in menu
    balances = phone.send("1")
    assert "Savings: KES 12,500" in balances
    assert "Shares: KES 5,000" in balances
    assert "Loan: KES 40,000" in balances
    assert "Next: KES 4,442 due 28/11/2026" in balances


def test_swahili_walk(phone: UssdPhone) -> None:
    phone.dial()
    assert "Weka PIN" in phone.send("2")
    assert "1. Salio" in phone.send("1234")
    assert "Akiba: KES 12,500" in phone.send("1")


def test_three_wrong_pins_lock_and_stay_locked(phone: UssdPhone) -> None:
    phone.dial()
    phone.send("1")
    assert "Attempts left: 2" in phone.send("0000")
    assert "Attempts left: 1" in phone.send("1111")
    locked = phone.send("2222")
    assert locked.startswith("END ") and "locked for 30 minutes" in locked
    assert "Enter your 4-digit PIN" in phone.dial()
    assert "locked" in phone.send("1234")


def test_home_and_back_navigation(phone: UssdPhone) -> None:
    phone.dial()
    phone.send("1")
    phone.send("1234")
    phone.send("1")
    assert "Last transactions" in phone.send("1")
    assert "Savings" in phone.send("0")
    assert "1. Balances" in phone.send("00")


def test_odd_input_always_gets_a_valid_screen(phone: UssdPhone) -> None:
    phone.dial()
    for text in ["", "😀", "x" * 500, "*#", "99", "-1", "1.5"]:
        body = phone.send(text)
        assert body.startswith(("CON ", "END "))


def test_unknown_number_is_told_it_is_not_registered(client) -> None:  # type: ignore[no-untyped-def]
    stranger = UssdPhone(client, phone="+254711999888")
    body = stranger.dial()
    assert body.startswith("END ") and "not registered with Demo SACCO" in body


def test_malformed_hop_gets_a_screen_not_a_500(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/channels/africastalking/ussd", data={"phoneNumber": "garbage"})
    assert response.status_code == 200
    assert response.text.startswith("END ")


def test_redial_offers_to_resume_a_dropped_session(phone: UssdPhone) -> None:
    phone.dial()
    phone.send("1")
    phone.send("1234")
    phone.send("1")
    phone.send("1")  # statement
    again = phone.dial()
    assert "unfinished session" in again
    assert "Last transactions" in phone.send("1")
