"""The simulator's provider requests are exactly what our own channel parsers accept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.simulator import payloads
from channels.sms import africastalking, twilio
from channels.whatsapp import parse_webhook, verify_signature
from flows.messages import ChannelName

SENT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def webhook(**kwargs: object) -> dict[str, object]:
    return payloads.whatsapp_webhook(
        wa_id="254700000001",
        phone_number_id="100000000000002",
        display_phone_number="254711000000",
        message_id="wamid.SIM1",
        sent_at=SENT,
        **kwargs,  # type: ignore[arg-type]
    )


def test_whatsapp_text_parses_and_verifies() -> None:
    signed = payloads.sign_whatsapp(webhook(text="hi"), "app-secret")
    assert verify_signature(signed.content, signed.headers["X-Hub-Signature-256"], "app-secret")
    assert not verify_signature(signed.content, signed.headers["X-Hub-Signature-256"], "other-secret")
    batch = parse_webhook(json.loads(signed.content))
    [inbound] = batch.messages
    assert inbound.channel == ChannelName.WHATSAPP
    assert inbound.phone_e164 == "+254700000001"
    assert inbound.binding == "100000000000002"
    assert inbound.text == "hi"
    assert inbound.provider_message_id == "wamid.SIM1"
    assert inbound.received_at == SENT


@pytest.mark.parametrize("kind", ["button_reply", "list_reply", "button"])
def test_whatsapp_taps_become_choices(kind: str) -> None:
    payload = webhook(reply=payloads.Reply(kind, "balance", "Balances"))
    [inbound] = parse_webhook(payload).messages
    assert inbound.choice_id == "balance"
    assert inbound.text == "Balances"


def test_new_message_ids_are_unique() -> None:
    assert len({payloads.new_wamid() for _ in range(100)}) == 100


def test_africastalking_form_parses() -> None:
    form = payloads.africastalking_sms(phone="+254700000001", short_code="22384", text="BAL", received_at=SENT)
    inbound = africastalking.parse_inbound(form)
    assert inbound is not None
    assert (inbound.phone_e164, inbound.binding, inbound.text) == ("+254700000001", "22384", "BAL")
    assert inbound.received_at == SENT
    assert inbound.reply_token == form["linkId"]


def test_twilio_form_is_signed_for_the_public_url() -> None:
    url = "http://127.0.0.1:8000/channels/twilio/sms"
    form = payloads.twilio_sms(phone="+254700000001", to="+15005550006", text="BAL", account_sid="AC1")
    signature = payloads.twilio_signature(url, form, "token")
    assert twilio.validate_signature(url, form, signature, "token")
    assert not twilio.validate_signature(url, {**form, "Body": "PAY 100"}, signature, "token")
    inbound = twilio.parse_inbound(form)
    assert inbound is not None and inbound.text == "BAL" and inbound.phone_e164 == "+254700000001"
