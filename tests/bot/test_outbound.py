"""Notices and sending: channel choice, the 24-hour window, retries, fallbacks to SMS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot import demo
from bot.bootstrap import Container
from bot.jobs import statuses
from bot.jobs.queue import SyncQueue
from channels.base import DeliveryStatus
from core import contacts
from core.tables import Direction, Member, MessageStatus, Organisation
from core.uow import UnitOfWork
from tests.bot.chat_support import AT_SHORT_CODE, PHONE_NUMBER_ID, FakeProviders, install_fakes, log_rows, member
from tests.conftest import NOW

EMBEDDED = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def fake(container: Container, demo_org: Organisation) -> Iterator[FakeProviders]:
    yield from install_fakes(container)


def wrote(container: Container, channel: str, *, ago: timedelta, provider: str, binding: str) -> None:
    with UnitOfWork(container.db) as uow:
        org_id = member(container).org_id
        contacts.touch(uow, org_id, demo.MEMBER_PHONE, channel, NOW - ago, provider=provider, binding=binding)
        uow.commit()


def notify(container: Container, text: str, **kwargs: object) -> None:
    amina = member(container)
    assert amina.id is not None
    container.services["notifier"].notify(amina.org_id, amina.id, text, **kwargs)


def test_inside_the_window_a_notice_goes_by_whatsapp(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=23), provider="whatsapp", binding=PHONE_NUMBER_ID)
    notify(container, "Payment of KES 500 received.")
    (body,) = fake.whatsapp_sent
    assert body["text"]["body"] == "Payment of KES 500 received." and body["to"] == "254700000001"
    assert fake.at_sent == []
    (row,) = log_rows(container, Direction.OUT)
    assert (row.channel, row.purpose, row.status) == ("whatsapp", "notice", MessageStatus.SENT)


def test_outside_the_window_a_notice_goes_by_sms(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=25), provider="whatsapp", binding=PHONE_NUMBER_ID)
    notify(container, "Payment of KES 500 received.")
    assert fake.whatsapp_sent == []
    (sms,) = fake.at_sent
    assert sms["message"] == "Payment of KES 500 received." and sms["to"] == demo.MEMBER_PHONE
    assert "from" not in sms  # no sender id configured, none learnt
    (row,) = log_rows(container, Direction.OUT)
    assert (row.channel, row.provider, row.segments) == ("sms", "africastalking", 1)


@EMBEDDED
def test_sms_goes_back_the_way_the_member_texted(container: Container, fake: FakeProviders) -> None:
    wrote(container, "sms", ago=timedelta(days=3), provider="twilio", binding="+15005550006")
    notify(container, "Hello")
    assert fake.at_sent == []
    (sent,) = fake.twilio_sent
    assert sent["From"] == "+15005550006" and sent["Body"] == "Hello"


@EMBEDDED
def test_a_member_who_prefers_sms_gets_sms(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(minutes=5), provider="whatsapp", binding=PHONE_NUMBER_ID)
    wrote(container, "sms", ago=timedelta(days=1), provider="africastalking", binding=AT_SHORT_CODE)
    with UnitOfWork(container.db) as uow:
        amina = uow.session.get(Member, member(container).id)
        assert amina is not None
        amina.preferred_channel = "sms"
        uow.session.add(amina)
        uow.commit()
    notify(container, "Hello")
    assert fake.whatsapp_sent == []
    assert fake.at_sent[0]["from"] == AT_SHORT_CODE


@EMBEDDED
def test_catalog_keys_are_translated_into_the_members_language(container: Container, fake: FakeProviders) -> None:
    with UnitOfWork(container.db) as uow:
        amina = uow.session.get(Member, member(container).id)
        assert amina is not None
        amina.language = "sw"
        uow.session.add(amina)
        uow.commit()
    notify(container, "common.opted_in", org="Demo SACCO")
    assert fake.at_sent[0]["message"] == "Karibu tena. Utapokea vikumbusho kutoka Demo SACCO tena."


@EMBEDDED
def test_pay_now_button(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=1), provider="whatsapp", binding=PHONE_NUMBER_ID)
    notify(container, "KES 4,442 is due on 28/11.", pay_now_payload="pay:17")
    (body,) = fake.whatsapp_sent
    assert body["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "pay:17", "title": "Pay now"}}
    ]


@EMBEDDED
def test_notice_to_any_phone(container: Container, fake: FakeProviders) -> None:
    org_id = member(container).org_id
    container.services["notifier"].notify_phone(org_id, "0711 999888", "Receipt S-0001: KES 1,200 paid.")
    (sms,) = fake.at_sent
    assert sms["to"] == "+254711999888"
    (row,) = log_rows(container, Direction.OUT)
    assert row.member_id is None


def test_whatsapp_refusal_falls_back_to_sms(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=1), provider="whatsapp", binding=PHONE_NUMBER_ID)
    fake.fail_whatsapp(131026)
    notify(container, "Payment received.")
    assert len(fake.whatsapp_sent) == 1
    assert fake.at_sent[0]["message"] == "Payment received."
    rows = [(row.channel, row.status, row.error_code) for row in log_rows(container, Direction.OUT)]
    assert rows == [("whatsapp", "failed", "131026"), ("sms", "sent", None)]


def test_late_131047_failure_falls_back_to_sms(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=1), provider="whatsapp", binding=PHONE_NUMBER_ID)
    notify(container, "Payment received.", pay_now_payload="pay:3")
    (row,) = log_rows(container, Direction.OUT)
    failed = DeliveryStatus("whatsapp", row.provider_message_id or "", "failed", error_code="131047")
    statuses.apply(container, [failed])
    statuses.apply(container, [failed])  # Meta repeats itself: one fallback only
    assert [sms["message"] for sms in fake.at_sent] == ["Payment received."]
    assert log_rows(container, Direction.OUT)[0].status == MessageStatus.FAILED


@EMBEDDED
def test_transient_errors_retry_honouring_retry_after(container: Container, fake: FakeProviders) -> None:
    wrote(container, "whatsapp", ago=timedelta(hours=1), provider="whatsapp", binding=PHONE_NUMBER_ID)
    fake.fail_whatsapp(130429, status=429, retry_after="42")
    fake.fail_whatsapp(131000, status=500)
    notify(container, "Payment received.")
    assert len(fake.whatsapp_sent) == 3
    queue = container.queue
    assert isinstance(queue, SyncQueue)
    assert [delay for name, delay in queue.delays if name == "deliver"] == [42.0, 30.0]
    (row,) = log_rows(container, Direction.OUT)
    assert row.status == MessageStatus.SENT  # the same log row, sent on the third attempt
    assert fake.at_sent == []


@EMBEDDED
def test_transient_errors_give_up_after_the_last_attempt(container: Container, fake: FakeProviders) -> None:
    for _ in range(5):
        fake.at_errors.append((503, {}))
    notify(container, "Hello")
    assert len(fake.at_sent) == 5
    (row,) = log_rows(container, Direction.OUT)
    assert (row.status, row.error_code) == (MessageStatus.FAILED, "503")


@EMBEDDED
def test_final_errors_are_not_retried(container: Container, fake: FakeProviders) -> None:
    failure = {
        "SMSMessageData": {
            "Message": "Sent to 0/1",
            "Recipients": [{"statusCode": 403, "number": "x", "status": "InvalidPhoneNumber"}],
        }
    }
    fake.at_errors.append((201, failure))
    notify(container, "Hello")
    assert len(fake.at_sent) == 1
    (row,) = log_rows(container, Direction.OUT)
    assert (row.status, row.error_code, row.error_message) == (MessageStatus.FAILED, "403", "InvalidPhoneNumber")


@EMBEDDED
def test_reports_arriving_before_the_send_is_recorded_are_tried_again(container: Container) -> None:
    queue = container.queue
    assert isinstance(queue, SyncQueue)
    statuses.apply(container, [DeliveryStatus("twilio", "SMunknown", "delivered")])
    assert ("apply_reports", statuses.UNKNOWN_RETRY_DELAY) in queue.delays
    assert queue.delays.count(("apply_reports", statuses.UNKNOWN_RETRY_DELAY)) == 1  # once, not forever
