"""Paying by SMS keyword (``PAY 500`` / ``LIPA 500``) through Africa's Talking, and the confirmation SMS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core.tables import PaymentState
from tests.bot.chat_support import FakeProviders, install_fakes, post_at_sms
from tests.bot.mpesa_support import callback_body, gateway, latest_payment, post_callback
from tests.core.payments_support import FakeGateway

__all__ = ["gateway"]
EMBEDDED = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def fake(container: Container) -> Iterator[FakeProviders]:
    yield from install_fakes(container)


class Sms:
    def __init__(self, client: TestClient, fake: FakeProviders) -> None:
        self.client, self.fake, self.count = client, fake, 0

    def send(self, text: str) -> str:
        self.count += 1
        before = len(self.fake.at_sent)
        assert post_at_sms(self.client, text, msg_id=f"pay-sms-{self.count}").status_code == 200
        sent = self.fake.at_sent[before:]
        return sent[-1]["message"] if sent else ""


@EMBEDDED
def test_pay_500_by_sms_then_the_confirmation(
    client: TestClient, container: Container, fake: FakeProviders, gateway: FakeGateway
) -> None:
    sms = Sms(client, fake)
    assert "Enter your 4-digit PIN" in sms.send("PAY 500")
    choose = sms.send("1234")
    assert "Pay by M-Pesa. What for?" in choose and "2. Contribution" in choose
    confirm = sms.send("2")
    assert "Pay KES 500 contribution for 11/2026" in confirm
    started = sms.send("1")
    assert "Check your phone for the M-Pesa prompt" in started
    assert gateway.pushes[0]["amount"] == 50_000
    payment = latest_payment(container)
    post_callback(client, payment.callback_token, callback_body(payment))
    assert latest_payment(container).state == PaymentState.PAID
    confirmation = fake.at_sent[-1]
    assert confirmation["to"] == "+254700000001"
    assert confirmation["message"] == (
        f"Demo SACCO: We received KES 500, M-Pesa SBX{payment.id:07d}. Your savings are now KES 13,000. Thank you."
    )


@EMBEDDED
def test_lipa_with_a_bad_amount_in_swahili(
    client: TestClient, container: Container, fake: FakeProviders, gateway: FakeGateway
) -> None:
    from core.tables import Member
    from core.uow import UnitOfWork

    with UnitOfWork(container.db) as uow:
        member = uow.session.get(Member, 1)
        assert member is not None
        member.language = "sw"
        uow.session.add(member)
        uow.commit()
    sms = Sms(client, fake)
    assert "PIN" in sms.send("LIPA 10.50")
    reply = sms.send("1234")
    assert "Weka kiasi kamili cha shilingi, kama 500." in reply
    assert "Lipa kwa M-Pesa" in reply
    assert gateway.pushes == []
