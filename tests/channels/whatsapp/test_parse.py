from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.base import DeliveryStatus
from channels.whatsapp.parse import WebhookError, parse_webhook
from flows.messages import ChannelName, Inbound

DATA = Path(__file__).parents[1] / "data" / "whatsapp"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def inbound(message_id: str, ts: int, phone: str = "+254712345678", **fields: Any) -> Inbound:
    return Inbound(
        channel=ChannelName.WHATSAPP,
        provider="whatsapp",
        binding=fields.pop("binding", "106540352242922"),
        phone_e164=phone,
        session_key=phone,
        provider_message_id=message_id,
        received_at=datetime.fromtimestamp(ts, UTC),
        **fields,
    )


def status(message_id: str, value: str, **fields: Any) -> DeliveryStatus:
    return DeliveryStatus("whatsapp", message_id, value, recipient=fields.pop("recipient", "+254712345678"), **fields)


PYWA = {"binding": "1122334455667", "phone": "+972987654321"}
"""The recorded pywa payloads: phone-number-id 1122334455667, sender wa_id 972987654321."""

CASES: dict[str, tuple[list[Inbound], list[DeliveryStatus]]] = {
    "whatsapp_text.json": ([inbound("wamid.xyzxyz", 1697043223, text="Body Text", **PYWA)], []),
    "whatsapp_button_reply.json": (
        [inbound("wamid.xyzxyz", 1698266730, choice_id="callback_data", text="title", **PYWA)],
        [],
    ),
    "whatsapp_interactive_list_reply.json": (
        [inbound("wamid.zyzxyz", 1698266905, choice_id="callback_data", text="title", **PYWA)],
        [],
    ),
    "whatsapp_status_delivered.json": (
        [],
        [DeliveryStatus("whatsapp", "wamid.xyzxyz", "delivered", recipient="+972987654321")],
    ),
    "constructed_image.json": ([inbound("wamid.IMG1", 1717000000, unsupported="image")], []),
    "constructed_location.json": ([inbound("wamid.LOC1", 1717000001, unsupported="location")], []),
    "constructed_reaction.json": ([], []),
    "constructed_unsupported.json": ([inbound("wamid.UNSUP1", 1717000003, unsupported="unsupported")], []),
    "constructed_template_button.json": (
        [inbound("wamid.BTN1", 1717000004, choice_id="pay:installment:42", text="Pay now")],
        [],
    ),
    "constructed_status_failed_131047.json": (
        [],
        [
            status(
                "wamid.OUT2",
                "failed",
                error_code="131047",
                error_message="Re-engagement message: Message failed to send because more than 24 hours "
                "have passed since the customer last replied to this number.",
            )
        ],
    ),
    "constructed_statuses_out_of_order.json": (
        [],
        [status("wamid.OUT3", "read"), status("wamid.OUT3", "sent"), status("wamid.OUT3", "delivered")],
    ),
    "constructed_two_messages.json": (
        [
            inbound("wamid.TWO1", 1717000040, text="hi"),
            inbound("wamid.TWO2", 1717000041, phone="+254722000002", text="BAL"),
        ],
        [],
    ),
    "constructed_duplicate_ids.json": (
        [inbound("wamid.DUP1", 1717000050, text="1"), inbound("wamid.DUP1", 1717000050, text="1")],
        [],
    ),
    "constructed_errors_value.json": ([], []),
    "constructed_template_status_update.json": ([], []),
}


def test_every_payload_file_has_a_case() -> None:
    assert {p.name for p in DATA.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse(name: str) -> None:
    messages, statuses = CASES[name]

    batch = parse_webhook(load(name))

    assert batch.messages == messages
    assert batch.statuses == statuses


def test_value_level_errors_are_collected() -> None:
    batch = parse_webhook(load("constructed_errors_value.json"))

    assert batch.errors == [
        WebhookError("130429", "Rate limit hit", "Rate limit hit", "Cloud API message throughput has been reached.")
    ]


def test_contacts_give_profile_names() -> None:
    batch = parse_webhook(load("constructed_two_messages.json"))

    assert batch.contacts == {"+254712345678": "Wanjiru", "+254722000002": "Otieno"}


def test_received_at_is_utc_aware() -> None:
    (message,) = parse_webhook(load("whatsapp_text.json")).messages

    assert message.received_at == datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["audio", "video", "document", "sticker", "contacts", "order", "brand_new_type"])
def test_other_kinds_are_unsupported(kind: str) -> None:
    payload = load("constructed_image.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = kind
    message[kind] = {"id": "123"}

    (parsed,) = parse_webhook(payload).messages

    assert parsed.unsupported == kind
    assert parsed.text == ""
    assert parsed.choice_id is None


@pytest.mark.parametrize("kind", ["reaction", "system", "request_welcome"])
def test_events_that_are_not_messages_are_skipped(kind: str) -> None:
    payload = load("constructed_image.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = kind

    assert parse_webhook(payload).messages == []


def test_flow_reply_without_id_is_unsupported_interactive() -> None:
    payload = load("whatsapp_button_reply.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] = {
        "type": "nfm_reply",
        "nfm_reply": {"response_json": "{}", "body": "Sent", "name": "flow"},
    }

    (parsed,) = parse_webhook(payload).messages

    assert parsed.unsupported == "interactive"
    assert parsed.choice_id is None


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("254712345678", "+254712345678"),
        ("972987654321", "+972987654321"),  # unknown to phonenumbers' metadata, kept as Meta reports it
        ("not-a-number", None),
        ("123", None),
        (254712345678, "+254712345678"),
    ],
)
def test_sender_phone(sender: object, expected: str | None) -> None:
    payload = load("whatsapp_text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = sender

    phones = [m.phone_e164 for m in parse_webhook(payload).messages]

    assert phones == ([expected] if expected else [])


def test_message_without_binding_is_skipped_but_statuses_are_kept() -> None:
    payload = load("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["metadata"]
    value["statuses"] = [{"id": "wamid.A", "status": "sent", "recipient_id": "254712345678"}]

    batch = parse_webhook(payload)

    assert batch.messages == []
    assert batch.statuses == [status("wamid.A", "sent")]


def test_unknown_status_values_are_skipped() -> None:
    payload = load("whatsapp_status_delivered.json")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "deleted"

    assert parse_webhook(payload).statuses == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "entry",
        {},
        {"object": "page", "entry": [{"changes": [{"field": "messages", "value": {}}]}]},
        {"entry": "nope"},
        {"entry": [{"changes": [{"field": "messages", "value": []}]}]},
        {"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": 5}, "messages": [None, 3, {}]}}]}]},
    ],
)
def test_unexpected_shapes_give_an_empty_batch(payload: object) -> None:
    batch = parse_webhook(payload)

    assert (batch.messages, batch.statuses, batch.errors, batch.contacts) == ([], [], [], {})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@given(
    junk=JSON,
    value_key=st.sampled_from(["messages", "statuses", "errors", "contacts", "metadata", "other"]),
    message_key=st.sampled_from(["from", "id", "type", "text", "timestamp", "interactive", "button"]),
)
def test_parse_never_raises(junk: object, value_key: str, message_key: str) -> None:
    payload = load("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0][message_key] = junk
    value["messages"].append(junk)
    value["statuses"] = [{"id": "wamid.A", "status": "failed", "errors": [junk]}, junk]
    value[value_key] = junk

    parse_webhook(payload)
    parse_webhook(junk)
