"""Paying by M-Pesa over USSD, in English and Swahili, through the HTTP app with a fake gateway.

Every screen is checked against the 182-character limit by :class:`UssdPhone`.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core.tables import PaymentPurpose, PaymentState
from tests.bot.mpesa_support import (
    RecordingNotifier,
    callback_body,
    gateway,
    latest_payment,
    notices,
    payment_by_id,
    post_callback,
)
from tests.conftest import UssdPhone
from tests.core.payments_support import FakeGateway

__all__ = ["gateway", "notices"]
embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def _menu(phone: UssdPhone, lang: str = "1") -> str:
    phone.dial()
    phone.send(lang)
    return phone.send("1234")


def test_pay_loan_installment_in_english(
    phone: UssdPhone, client: TestClient, container: Container, gateway: FakeGateway, notices: RecordingNotifier
) -> None:
    menu = _menu(phone)
    assert "3. Pay (M-Pesa)" in menu
    choose = phone.send("3")
    assert "Pay by M-Pesa. What for?" in choose
    assert "Loan LN-0001: KES 4,442 due 28/11/2026" in choose
    assert "Contribution 11/2026: KES 1,000 left" in choose
    assert "1. Loan LN-0001" in choose and "2. Contribution" in choose
    confirm = phone.send("1")
    assert "Pay KES 4,442 for loan LN-0001 from M-Pesa +2547****0001?" in confirm
    assert "1. Confirm" in confirm and "2. Another amount" in confirm and "3. Cancel" in confirm
    done = phone.send("1")
    assert done.startswith("END ")
    assert "Check your phone for the M-Pesa prompt" in done and "KES 4,442" in done

    # The push went out from a job, for the installment, to the member's phone.
    assert len(gateway.pushes) == 1
    push = gateway.pushes[0]
    assert (push["phone"], push["amount"], push["account_reference"]) == ("+254700000001", 444_200, "M00001")
    payment = latest_payment(container)
    assert payment.state == PaymentState.PENDING
    assert payment.purpose == PaymentPurpose.LOAN_REPAYMENT

    # M-Pesa calls back; the loan goes down and the member is told, once.
    response = post_callback(client, payment.callback_token, callback_body(payment))
    assert response.status_code == 200 and response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert post_callback(client, payment.callback_token, callback_body(payment)).status_code == 200
    assert payment_by_id(container, payment.id or 0).state == PaymentState.PAID
    assert notices.texts() == [
        f"Demo SACCO: We received KES 4,442 for loan LN-0001, M-Pesa SBX{payment.id:07d}. "
        "Loan balance: KES 36,000. Thank you."
    ]
    phone.dial()
    phone.send("1234")
    balances = phone.send("1")
    assert "Loan: KES 36,000" in balances
    assert "Next: KES 4,442 due 28/12/2026" in balances


def test_pay_contribution_with_another_amount_in_swahili(
    phone: UssdPhone, client: TestClient, container: Container, gateway: FakeGateway, notices: RecordingNotifier
) -> None:
    menu = _menu(phone, lang="2")
    assert "3. Lipa (M-Pesa)" in menu
    choose = phone.send("3")
    assert "Lipa kwa M-Pesa. Ni ya nini?" in choose
    assert "Mchango 11/2026: KES 1,000 imebaki" in choose
    confirm = phone.send("2")
    assert "Lipa mchango wa KES 1,000 wa 11/2026" in confirm
    assert "2. Kiasi kingine" in confirm
    assert "Weka kiasi (KES 10 hadi KES 150,000):" in phone.send("2")
    assert "Weka kiasi kamili cha shilingi" in phone.send("abc")
    assert "Kiasi cha chini ni KES 10." in phone.send("5")
    assert "Kiasi cha juu kwa mara moja ni KES 150,000." in phone.send("200000")
    confirm = phone.send("2,500")
    assert "Lipa mchango wa KES 2,500 wa 11/2026" in confirm
    done = phone.send("1")
    assert done.startswith("END ") and "Angalia simu yako" in done
    payment = latest_payment(container)
    assert (payment.amount, payment.subject) == (250_000, "2026-11")

    post_callback(client, payment.callback_token, callback_body(payment))
    assert notices.texts("sw") == [
        f"Demo SACCO: Tumepokea KES 2,500, M-Pesa SBX{payment.id:07d}. Akiba yako sasa ni KES 15,000. Asante."
    ]
    phone.dial()
    phone.send("1234")
    assert "Akiba: KES 15,000" in phone.send("1")


def test_a_second_payment_while_the_first_waits_is_refused(
    phone: UssdPhone, gateway: FakeGateway, notices: RecordingNotifier
) -> None:
    _menu(phone)
    phone.send("3")
    phone.send("1")
    phone.send("1")
    _menu(phone)
    phone.send("3")
    phone.send("2")
    busy = phone.send("1")
    assert busy.startswith("END ")
    assert "You already have a payment waiting" in busy and "3 minutes" in busy
    assert len(gateway.pushes) == 1


@embedded_only
def test_cancel_returns_to_the_menu_and_pushes_nothing(phone: UssdPhone, gateway: FakeGateway) -> None:
    _menu(phone)
    phone.send("3")
    phone.send("1")
    back = phone.send("3")
    assert "Payment cancelled. Nothing was charged." in back
    assert "1. Balances" in back
    assert gateway.pushes == []


@embedded_only
def test_loan_amount_above_what_is_owed_is_refused(phone: UssdPhone, gateway: FakeGateway) -> None:
    _menu(phone)
    phone.send("3")
    phone.send("1")
    assert "Enter the amount (KES 10 to KES 44,420)" in phone.send("2")
    assert "You owe KES 44,420 on this loan. Enter that or less." in phone.send("50000")
    assert "Pay KES 44,420 for loan LN-0001" in phone.send("44420")


def test_failure_callbacks_tell_the_member_why(
    phone: UssdPhone, client: TestClient, container: Container, gateway: FakeGateway, notices: RecordingNotifier
) -> None:
    expected = {
        2001: "Your payment of KES 1,000 failed: wrong M-Pesa PIN. Nothing was charged. Please try again.",
        1: "Your payment of KES 1,000 failed: not enough money in M-Pesa. Nothing was charged.",
        1032: "Your payment of KES 1,000 was cancelled. Nothing was charged. You can try again any time.",
        1037: "The M-Pesa request for KES 1,000 was not answered in time. Please try again.",
        1036: "Your payment of KES 1,000 did not go through. Nothing was charged. Please try again later.",
    }
    for code, text in expected.items():
        _menu(phone)
        phone.send("3")
        phone.send("2")
        assert phone.send("1").startswith("END ")
        payment = latest_payment(container)
        assert post_callback(client, payment.callback_token, callback_body(payment, code)).status_code == 200
        assert notices.texts()[-1] == f"Demo SACCO: {text}"
    assert len(notices.sent) == len(expected)
