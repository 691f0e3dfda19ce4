"""SMS end to end on Africa's Talking and Twilio: keywords, numbered menus, opt-out, reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from starlette.testclient import TestClient

from bot import demo
from bot.bootstrap import Container
from core.tables import Direction, Member, MessageStatus
from core.uow import UnitOfWork
from tests.bot.chat_support import (
    AT_SHORT_CODE,
    TWILIO_NUMBER,
    FakeProviders,
    install_fakes,
    log_rows,
    member,
    post_at_sms,
    post_twilio,
    twilio_inbound,
)

DATA = Path(__file__).parents[1] / "channels" / "data" / "sms"
EMBEDDED = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def fake(container: Container) -> Iterator[FakeProviders]:
    yield from install_fakes(container)


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / name).read_text().strip(), keep_blank_values=True))


class AtPhone:
    def __init__(self, client: TestClient, fake: FakeProviders, phone: str = demo.MEMBER_PHONE) -> None:
        self.client, self.fake, self.phone, self.count = client, fake, phone, 0

    def send(self, text: str) -> str:
        self.count += 1
        before = len(self.fake.at_sent)
        response = post_at_sms(self.client, text, msg_id=f"at-{self.phone}-{self.count}", phone=self.phone)
        assert response.status_code == 200, response.text
        sent = self.fake.at_sent[before:]
        assert len(sent) <= 1
        return sent[0]["message"] if sent else ""


@pytest.fixture
def at_phone(client: TestClient, fake: FakeProviders) -> AtPhone:
    return AtPhone(client, fake)


# -- Africa's Talking -------------------------------------------------------------------------------


def test_balance_by_keyword_end_to_end(at_phone: AtPhone, container: Container, fake: FakeProviders) -> None:
    assert "Enter your 4-digit PIN" in at_phone.send("BAL")
    balances = at_phone.send("1234")
    assert "Savings: KES 12,500" in balances
    assert "1. Mini-statement" in balances or "1." in balances
    assert "Reply with a number" in balances
    (sent,) = fake.at_sent[-1:]
    assert sent["to"] == demo.MEMBER_PHONE
    assert sent["from"] == AT_SHORT_CODE  # answered from the short code the member wrote to
    assert sent["username"] == "sandbox"
    inbound = log_rows(container, Direction.IN)
    assert [row.content for row in inbound] == ["BAL", "****"]
    out = log_rows(container, Direction.OUT)
    assert all(row.channel == "sms" and row.provider == "africastalking" for row in out)
    assert all(row.segments and row.segments >= 1 for row in out)
    assert out[-1].provider_message_id and out[-1].status == MessageStatus.SENT


@EMBEDDED
def test_swahili_keyword_and_numbered_menu(at_phone: AtPhone) -> None:
    at_phone.send("SALIO")
    at_phone.send("1234")
    menu = at_phone.send("00")
    assert "1. " in menu and "2. " in menu
    assert "Savings" in at_phone.send("1")


@EMBEDDED
def test_text_without_keyword_opens_the_menu(at_phone: AtPhone) -> None:
    assert "1. English" in at_phone.send("hello")
    assert "Enter your 4-digit PIN" in at_phone.send("1")
    menu = at_phone.send("1234")
    assert "1. Balances" in menu
    assert menu.rstrip().endswith("Reply with a number") or "98. More" in menu


def test_duplicate_at_id_is_answered_once(client: TestClient, container: Container, fake: FakeProviders) -> None:
    for _ in range(2):
        assert post_at_sms(client, "BAL", msg_id="at-dup").status_code == 200
    assert len(fake.at_sent) == 1
    assert len(log_rows(container, Direction.IN)) == 1


def test_stop_and_start(at_phone: AtPhone, container: Container, fake: FakeProviders) -> None:
    assert not member(container).opted_out
    reply = at_phone.send("STOP")
    assert "no longer receive reminders" in reply and "START" in reply
    assert member(container).opted_out
    assert "receive reminders" in at_phone.send("start")
    assert not member(container).opted_out
    at_phone.send("ACHA")
    assert member(container).opted_out
    at_phone.send("ANZA")
    assert not member(container).opted_out


@EMBEDDED
def test_stop_works_in_the_middle_of_a_flow(at_phone: AtPhone, container: Container) -> None:
    assert "PIN" in at_phone.send("BAL")
    assert "no longer receive" in at_phone.send("stop")  # not taken as a (wrong) PIN
    assert member(container).opted_out
    assert member(container).failed_pin_attempts == 0
    # Opted out, the member still uses the service by writing in.
    assert "PIN" in at_phone.send("BAL")
    assert "Savings" in at_phone.send("1234")


@EMBEDDED
def test_help_in_the_members_language(at_phone: AtPhone, container: Container) -> None:
    assert "send BAL for balances" in at_phone.send("HELP")
    assert "send BAL for balances" in at_phone.send("msaada")  # the keyword's language does not matter
    with UnitOfWork(container.db) as uow:
        amina = uow.session.get(Member, member(container).id)
        assert amina is not None
        amina.language = "sw"
        uow.session.add(amina)
        uow.commit()
    assert "tuma SALIO kwa salio" in at_phone.send("MSAADA")
    assert "tuma SALIO kwa salio" in at_phone.send("HELP")


@EMBEDDED
def test_unregistered_sender(client: TestClient, fake: FakeProviders) -> None:
    post_at_sms(client, "BAL", msg_id="at-stranger", phone="+254711999888")
    assert "not registered" in fake.at_sent[-1]["message"]


@EMBEDDED
def test_recorded_at_payloads(client: TestClient, container: Container, fake: FakeProviders) -> None:
    names = sorted(p.name for p in DATA.glob("*at_sms_inbound*.form"))
    assert len(names) >= 3
    for name in names:
        assert client.post("/channels/africastalking/sms", data=form(name)).status_code == 200, name
    for name in sorted(p.name for p in DATA.glob("*at_sms_delivery_report*.form")):
        assert client.post("/channels/africastalking/sms/delivery", data=form(name)).status_code == 200, name
    assert client.post("/channels/africastalking/sms", data={}).status_code == 200
    assert client.post("/channels/africastalking/sms/delivery", data={"id": "x", "status": "Nope"}).status_code == 200


def test_at_delivery_report_moves_the_status(
    at_phone: AtPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    at_phone.send("BAL")
    (row,) = log_rows(container, Direction.OUT)
    report = {"id": row.provider_message_id or "", "status": "Success", "phoneNumber": demo.MEMBER_PHONE}
    assert client.post("/channels/africastalking/sms/delivery", data=report).status_code == 200
    late = {**report, "status": "Sent"}
    assert client.post("/channels/africastalking/sms/delivery", data=late).status_code == 200
    (row,) = log_rows(container, Direction.OUT)
    assert row.status == MessageStatus.DELIVERED and row.delivered_at is not None


@EMBEDDED
def test_blacklisted_delivery_report_opts_out(
    at_phone: AtPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    at_phone.send("BAL")
    (row,) = log_rows(container, Direction.OUT)
    report = {"id": row.provider_message_id or "", "status": "Failed", "failureReason": "UserInBlacklist"}
    client.post("/channels/africastalking/sms/delivery", data=report)
    assert member(container).opted_out
    assert log_rows(container, Direction.OUT)[0].error_code == "UserInBlacklist"


# -- Twilio -----------------------------------------------------------------------------------------


def test_twilio_balance_end_to_end(client: TestClient, container: Container, fake: FakeProviders) -> None:
    response = post_twilio(client, "/channels/twilio/sms", twilio_inbound("BAL", sid="SM" + "1" * 32))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert "PIN" in fake.twilio_sent[-1]["Body"]
    post_twilio(client, "/channels/twilio/sms", twilio_inbound("1234", sid="SM" + "2" * 32))
    sent = fake.twilio_sent[-1]
    assert "Savings: KES 12,500" in sent["Body"]
    assert sent["To"] == demo.MEMBER_PHONE and sent["From"] == TWILIO_NUMBER
    assert sent["StatusCallback"] == "http://testserver/channels/twilio/status"
    assert fake.at_sent == []
    assert {row.provider for row in log_rows(container)} == {"twilio"}


@EMBEDDED
@pytest.mark.parametrize(
    ("signature", "status"), [("", 401), ("bm90IGEgc2lnbmF0dXJl", 403), ("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", 403)]
)
def test_twilio_bad_signature_changes_nothing(
    client: TestClient, container: Container, fake: FakeProviders, signature: str, status: int
) -> None:
    form_ = twilio_inbound("BAL", sid="SM" + "3" * 32)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    assert client.post("/channels/twilio/sms", data=form_, headers=headers).status_code == status
    assert (
        client.post("/channels/twilio/status", data={"MessageSid": "SMx", "MessageStatus": "read"}).status_code == 401
    )
    assert log_rows(container) == [] and fake.twilio_sent == []


@EMBEDDED
def test_twilio_signature_covers_the_query(client: TestClient, fake: FakeProviders) -> None:
    form_ = twilio_inbound("BAL", sid="SM" + "4" * 32)
    signed_without = post_twilio(client, "/channels/twilio/sms", form_).request.headers["X-Twilio-Signature"]
    response = client.post("/channels/twilio/sms?org=demo", data=form_, headers={"X-Twilio-Signature": signed_without})
    assert response.status_code == 403
    assert (
        post_twilio(client, "/channels/twilio/sms?org=demo", {**form_, "MessageSid": "SM" + "5" * 32}).status_code
        == 200
    )


def test_twilio_status_callbacks(client: TestClient, container: Container, fake: FakeProviders) -> None:
    post_twilio(client, "/channels/twilio/sms", twilio_inbound("BAL", sid="SM" + "6" * 32))
    (row,) = log_rows(container, Direction.OUT)
    sid = row.provider_message_id or ""
    for status in ("delivered", "sent", "queued"):
        report = {"MessageSid": sid, "MessageStatus": status, "To": demo.MEMBER_PHONE}
        assert post_twilio(client, "/channels/twilio/status", report).status_code == 200
    (row,) = log_rows(container, Direction.OUT)
    assert row.status == MessageStatus.DELIVERED


@EMBEDDED
def test_twilio_21610_opts_the_member_out(client: TestClient, container: Container, fake: FakeProviders) -> None:
    fake.twilio_errors.append((400, 21610, "Attempt to send to unsubscribed recipient"))
    post_twilio(client, "/channels/twilio/sms", twilio_inbound("BAL", sid="SM" + "7" * 32))
    assert member(container).opted_out
    (row,) = log_rows(container, Direction.OUT)
    assert (row.status, row.error_code) == (MessageStatus.FAILED, "21610")


@EMBEDDED
def test_recorded_twilio_payloads(client: TestClient, container: Container, fake: FakeProviders) -> None:
    inbound = form("twilio_sms_inbound.form")
    assert post_twilio(client, "/channels/twilio/sms", inbound).status_code == 200
    assert "not registered" in fake.twilio_sent[-1]["Body"]  # a US number, not a member
    for name in ("constructed_twilio_status_delivered.form", "constructed_twilio_status_undelivered.form"):
        assert post_twilio(client, "/channels/twilio/status", form(name)).status_code == 200
    assert post_twilio(client, "/channels/twilio/sms", {"Body": "x"}).status_code == 200
