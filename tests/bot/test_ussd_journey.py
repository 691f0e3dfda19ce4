"""Whole USSD sessions through the HTTP app, as Africa's Talking drives them."""

from __future__ import annotations

from starlette.testclient import TestClient

from bot import demo
from bot.bootstrap import Container
from core.tables import Organisation
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


def _mid_statement(phone: UssdPhone) -> None:
    """Dial, pick English, sign in, open Balances, then the mini-statement."""
    phone.dial()
    phone.send("1")
    phone.send("1234")
    phone.send("1")
    assert "Last transactions" in phone.send("1")


def test_home_and_back_navigation(phone: UssdPhone) -> None:
    _mid_statement(phone)
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
    _mid_statement(phone)
    again = phone.dial()
    assert "unfinished session" in again
    assert "Last transactions" in phone.send("1")


def test_hops_in_threads_walk_the_same_session(container: Container, demo_org: Organisation) -> None:
    """``JUMBE_HOP_THREADS=2``: hops leave the event loop for threads and behave the same."""
    from bot.app import create_app

    container.settings.hop_threads = 2
    with TestClient(create_app(container)) as client:
        phone = UssdPhone(client)
        phone.dial()
        phone.send("1")
        assert "1. Balances" in phone.send("1234")
        assert "Savings: KES 12,500" in phone.send("1")
        assert "1. Balances" in phone.send("00")


def test_two_members_interleaved_see_only_their_own_screens(client: TestClient) -> None:
    """Flow machines are reused across hops: one member's hop must never show another's figures."""
    amina, chebet = UssdPhone(client), UssdPhone(client, phone="+254700000003")
    for phone in (amina, chebet):
        phone.dial()
        phone.send("1")
    assert "Attempts left: 2" in chebet.send("0000")
    assert "1. Balances" in amina.send("1234")
    assert "Enter your 4-digit PIN" in chebet.send("1")  # still locked out of the menu, not unlocked by Amina
    assert "1. Balances" in chebet.send("1234")
    for _ in range(3):
        assert "Savings: KES 12,500" in amina.send("1")
        assert "Savings: KES 3,000" in chebet.send("1")
        assert "1. Balances" in amina.send("0")
        assert "1. Balances" in chebet.send("0")


def _session_end(phone: UssdPhone, status: str, session: str | None = None) -> None:
    response = phone.client.post(
        "/channels/africastalking/ussd/events",
        data={
            "sessionId": session or phone.session,
            "serviceCode": phone.code,
            "phoneNumber": phone.phone,
            "networkCode": "63902",
            "status": status,
            "cost": "KES 0.0000",
            "durationInMillis": "14000",
            "hopsCount": str(len(phone.inputs) + 1),
            "input": "*".join(phone.inputs),
            "lastAppResponse": "CON ...",
            "errorMessage": "",
            "date": "2026-11-22 10:00:00.000",
        },
    )
    assert response.status_code == 200
    assert response.text == "OK"


def test_a_dropped_session_stays_resumable_after_the_end_notice(phone: UssdPhone) -> None:
    _mid_statement(phone)
    _session_end(phone, "Incomplete")
    assert "unfinished session" in phone.dial()


def test_a_completed_session_is_closed_by_the_end_notice(phone: UssdPhone) -> None:
    _mid_statement(phone)
    _session_end(phone, "Success")
    again = phone.dial()
    assert "unfinished session" not in again
    assert "1. Balances" in again or "Enter your 4-digit PIN" in again


def test_an_end_notice_for_an_older_session_leaves_the_current_one(phone: UssdPhone) -> None:
    _mid_statement(phone)
    _session_end(phone, "Success", session="ATUid_long_gone")
    assert "unfinished session" in phone.dial()


def test_malformed_end_notices_get_200_and_change_nothing(phone: UssdPhone) -> None:
    _mid_statement(phone)
    for form in ({}, {"sessionId": phone.session}, {"sessionId": phone.session, "phoneNumber": "junk", "status": "x"}):
        response = phone.client.post("/channels/africastalking/ussd/events", data=form)
        assert response.status_code == 200
    assert "unfinished session" in phone.dial()


def test_a_multipart_hop_is_read_too(client: TestClient) -> None:
    """Africa's Talking sends urlencoded forms; a multipart one (some gateways) works the same."""
    fields = {"sessionId": "ATUid_multi", "serviceCode": demo.USSD_CODE, "phoneNumber": demo.MEMBER_PHONE, "text": ""}
    response = client.post("/channels/africastalking/ussd", files={k: (None, v) for k, v in fields.items()})
    assert response.status_code == 200
    assert "Choose language" in response.text


def test_a_hop_with_hundreds_of_fields_gets_a_screen(client: TestClient) -> None:
    body = "&".join(f"f{i}=x" for i in range(500))
    response = client.post(
        "/channels/africastalking/ussd",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.text.startswith("END ")


def test_plus_and_percent_escapes_are_decoded_as_africas_talking_sends_them(client: TestClient) -> None:
    body = "sessionId=ATUid_esc&serviceCode=%2A384%2A1%23&phoneNumber=%2B254700000001&text="
    response = client.post(
        "/channels/africastalking/ussd", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert "Choose language" in response.text
