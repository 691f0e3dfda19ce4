"""The WhatsApp webhook end to end: signed notifications in, Graph API requests out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.bootstrap import Container
from channels.whatsapp import parse_webhook
from core.tables import Direction, MessageStatus
from tests.bot.chat_support import (
    MEMBER_WA,
    FakeProviders,
    WhatsAppPhone,
    install_fakes,
    log_rows,
    options,
    post_whatsapp,
    wa_message,
    wa_webhook,
)
from tests.conftest import NOW

DATA = Path(__file__).parents[1] / "channels" / "data" / "whatsapp"
EMBEDDED = pytest.mark.parametrize("backend", ["embedded"], indirect=True)
"""For tests where the deployment shape cannot matter (each app test costs a migrated, seeded database)."""


@pytest.fixture
def fake(container: Container) -> Iterator[FakeProviders]:
    yield from install_fakes(container)


@pytest.fixture
def phone(client: TestClient, fake: FakeProviders) -> WhatsAppPhone:
    return WhatsAppPhone(client, fake)


# -- the handshake ----------------------------------------------------------------------------------


@EMBEDDED
def test_handshake_echoes_the_challenge(client: TestClient) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1158201444"}
    response = client.get("/channels/whatsapp", params=query)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@EMBEDDED
@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_with_a_wrong_token_is_forbidden(client: TestClient, query: dict[str, str]) -> None:
    assert client.get("/channels/whatsapp", params=query).status_code == 403


@EMBEDDED
def test_recorded_handshake_query(client: TestClient) -> None:
    query = (DATA / "whatsapp_verify_handshake.query").read_text().strip()
    # The recorded token is the documentation's; ours differs, so Meta's own example is refused.
    assert client.get(f"/channels/whatsapp?{query}").status_code == 403


# -- signatures -------------------------------------------------------------------------------------


@EMBEDDED
def test_missing_signature_is_401_and_nothing_happens(
    client: TestClient, container: Container, fake: FakeProviders
) -> None:
    raw = json.dumps(wa_webhook(wa_message("BAL", msg_id="wamid.nosig"))).encode()
    response = client.post("/channels/whatsapp", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert log_rows(container) == []
    assert fake.whatsapp_sent == []


@EMBEDDED
@pytest.mark.parametrize("header", ["sha256=" + "0" * 64, "sha1=abc", "sha256=zz", "garbage"])
def test_wrong_signature_is_403_and_nothing_happens(
    client: TestClient, container: Container, fake: FakeProviders, header: str
) -> None:
    raw = json.dumps(wa_webhook(wa_message("BAL", msg_id="wamid.badsig"))).encode()
    response = client.post("/channels/whatsapp", content=raw, headers={"X-Hub-Signature-256": header})
    assert response.status_code == 403
    assert log_rows(container) == []
    assert fake.whatsapp_sent == []
    # The same id signed properly afterwards is still new: a refused request de-duplicated nothing.
    assert post_whatsapp(client, raw).status_code == 200
    assert len(log_rows(container, Direction.IN)) == 1


@EMBEDDED
def test_signed_with_another_secret_is_403(client: TestClient, container: Container) -> None:
    response = post_whatsapp(client, wa_webhook(wa_message("hi", msg_id="wamid.x")), secret="sandbox-other")
    assert response.status_code == 403
    assert log_rows(container) == []


@EMBEDDED
@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"object": "page"}', b'{"entry": "x"}'])
def test_malformed_but_authentic_is_200_and_ignored(
    client: TestClient, container: Container, fake: FakeProviders, body: bytes
) -> None:
    assert post_whatsapp(client, body).status_code == 200
    assert log_rows(container) == []
    assert fake.whatsapp_sent == []


# -- conversations ----------------------------------------------------------------------------------


def test_balance_check_end_to_end(phone: WhatsAppPhone, container: Container, fake: FakeProviders) -> None:
    (language,) = phone.send("Hi")
    assert language["to"] == MEMBER_WA
    assert language["type"] == "interactive" and language["interactive"]["type"] == "button"
    assert options(language) == ["en", "sw"]
    replies = phone.tap("en", "English")
    assert replies[-1]["type"] == "text" and "PIN" in replies[-1]["text"]["body"]
    *_, menu = phone.send("1234")
    assert "balance" in options(menu)
    (balances,) = phone.tap("balance", "Balances")
    text = balances["interactive"]["body"]["text"]
    assert "Savings: KES 12,500" in text
    assert "Loan: KES 40,000" in text
    assert options(balances) == ["statement"]
    inbound = log_rows(container, Direction.IN)
    assert [row.content for row in inbound] == ["Hi", "English", "****", "Balances"]
    assert all(row.status == MessageStatus.PROCESSED for row in inbound)
    outbound = log_rows(container, Direction.OUT)
    assert all(row.status == MessageStatus.SENT and row.provider_message_id for row in outbound)
    assert all(row.purpose == "reply" and row.member_id is not None for row in outbound)
    assert "1234" not in " ".join(row.content for row in log_rows(container))


@EMBEDDED
def test_keyword_opens_the_flow(phone: WhatsAppPhone, fake: FakeProviders) -> None:
    phone.send("Hi")
    phone.tap("en")
    phone.send("1234")
    (balances,) = phone.send("bal")
    assert "Savings: KES 12,500" in balances["interactive"]["body"]["text"]


def test_same_id_twice_in_one_request_is_answered_once(
    client: TestClient, container: Container, fake: FakeProviders
) -> None:
    message = wa_message("Hi", msg_id="wamid.twice")
    assert post_whatsapp(client, wa_webhook(message, message)).status_code == 200
    assert len(fake.whatsapp_sent) == 1
    assert len(log_rows(container, Direction.IN)) == 1


def test_redelivery_is_answered_once(client: TestClient, container: Container, fake: FakeProviders) -> None:
    payload = wa_webhook(wa_message("Hi", msg_id="wamid.again"))
    for _ in range(3):
        assert post_whatsapp(client, payload).status_code == 200
    assert len(fake.whatsapp_sent) == 1
    assert len(log_rows(container, Direction.IN)) == 1


@EMBEDDED
def test_two_messages_in_one_request_are_both_answered(client: TestClient, fake: FakeProviders) -> None:
    first = wa_message("Hi", msg_id="wamid.one")
    other = wa_message("Hi", msg_id="wamid.two", wa_id="254700000003")
    assert post_whatsapp(client, wa_webhook(first, other)).status_code == 200
    assert sorted(body["to"] for body in fake.whatsapp_sent) == ["254700000001", "254700000003"]


@EMBEDDED
def test_media_gets_a_polite_answer_and_reactions_none(
    phone: WhatsAppPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    phone.send("Hi")
    before = len(fake.whatsapp_sent)
    post_whatsapp(client, wa_webhook(wa_message(msg_id="wamid.img", kind="image")))
    polite = fake.whatsapp_sent[before]
    assert polite["text"]["body"] == "Please reply with text or choose an option."
    assert log_rows(container, Direction.IN)[-1].content == "[image]"
    count = len(fake.whatsapp_sent)
    reaction = {
        "from": MEMBER_WA,
        "id": "wamid.react",
        "timestamp": str(int(NOW.timestamp())),
        "type": "reaction",
        "reaction": {"message_id": "wamid.OUT1", "emoji": "👍"},
    }
    assert post_whatsapp(client, wa_webhook(reaction)).status_code == 200
    assert len(fake.whatsapp_sent) == count


@EMBEDDED
def test_unregistered_number_is_told_so(client: TestClient, fake: FakeProviders) -> None:
    post_whatsapp(client, wa_webhook(wa_message("Hi", msg_id="wamid.stranger", wa_id="254711999888")))
    (reply,) = fake.whatsapp_sent
    assert "not registered with Demo SACCO" in reply["text"]["body"]


# -- the 24-hour window -----------------------------------------------------------------------------


def test_outside_the_window_the_reply_is_the_template(
    client: TestClient, container: Container, fake: FakeProviders
) -> None:
    old = wa_message("Hi", msg_id="wamid.old", at=NOW - timedelta(hours=25))
    assert post_whatsapp(client, wa_webhook(old)).status_code == 200
    (reply,) = fake.whatsapp_sent
    assert reply["type"] == "template"
    assert reply["template"]["name"] == "jumbe_notice"
    assert reply["template"]["language"] == {"code": "en"}
    (parameter,) = reply["template"]["components"][0]["parameters"]
    assert "1. English" in parameter["text"] and "\n" not in parameter["text"]
    assert log_rows(container, Direction.OUT)[0].kind == "template"


@EMBEDDED
def test_window_closed_at_send_time_retries_as_template(
    phone: WhatsAppPhone, container: Container, fake: FakeProviders
) -> None:
    fake.fail_whatsapp(131047)
    sent = phone.send("Hi")
    assert [body["type"] for body in sent] == ["interactive", "template"]
    statuses = [(row.kind, row.status, row.error_code) for row in log_rows(container, Direction.OUT)]
    assert statuses == [("interactive", "failed", "131047"), ("template", "sent", None)]


# -- statuses ---------------------------------------------------------------------------------------


def _status(wamid: str, status: str, **extra: object) -> dict[str, object]:
    return {"id": wamid, "status": status, "timestamp": str(int(NOW.timestamp())), "recipient_id": MEMBER_WA, **extra}


def test_statuses_out_of_order_never_downgrade(
    phone: WhatsAppPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    phone.send("Hi")
    (row,) = log_rows(container, Direction.OUT)
    wamid = row.provider_message_id
    assert wamid
    for status in ("read", "sent", "delivered"):
        assert post_whatsapp(client, wa_webhook(statuses=[_status(wamid, status)])).status_code == 200
    (row,) = log_rows(container, Direction.OUT)
    assert row.status == MessageStatus.READ
    assert row.read_at is not None and row.delivered_at is not None


@EMBEDDED
def test_failed_status_keeps_its_error_code(
    phone: WhatsAppPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    phone.send("Hi")
    (row,) = log_rows(container, Direction.OUT)
    error = {"code": 131026, "title": "Message undeliverable"}
    post_whatsapp(client, wa_webhook(statuses=[_status(row.provider_message_id or "", "failed", errors=[error])]))
    (row,) = log_rows(container, Direction.OUT)
    assert (row.status, row.error_code) == (MessageStatus.FAILED, "131026")
    assert row.error_message == "Message undeliverable"
    # A reply is not re-sent by SMS: only notices fall back.
    assert fake.at_sent == []


@EMBEDDED
def test_a_status_for_an_unknown_message_changes_nothing(client: TestClient, container: Container) -> None:
    assert post_whatsapp(client, wa_webhook(statuses=[_status("wamid.unknown", "read")])).status_code == 200
    assert log_rows(container) == []


@EMBEDDED
def test_a_webhook_with_a_message_and_a_status(
    phone: WhatsAppPhone, client: TestClient, container: Container, fake: FakeProviders
) -> None:
    phone.send("Hi")
    (row,) = log_rows(container, Direction.OUT)
    payload = wa_webhook(
        wa_message("1", msg_id="wamid.mixed"), statuses=[_status(row.provider_message_id or "", "read")]
    )
    assert post_whatsapp(client, payload).status_code == 200
    assert log_rows(container, Direction.OUT)[0].status == MessageStatus.READ
    assert len(log_rows(container, Direction.IN)) == 2


# -- recorded payloads ------------------------------------------------------------------------------


@EMBEDDED
def test_every_recorded_payload_goes_through_the_route(
    client: TestClient, container: Container, fake: FakeProviders
) -> None:
    names = sorted(p.name for p in DATA.glob("*.json"))
    assert len(names) >= 15
    for name in names:
        raw = (DATA / name).read_bytes()
        assert post_whatsapp(client, raw).status_code == 200, name
        # Replayed exactly (Meta redelivers), nothing new is answered.
        sent = len(fake.whatsapp_sent)
        assert post_whatsapp(client, raw).status_code == 200, name
        assert len(fake.whatsapp_sent) == sent, name
    rows = log_rows(container, Direction.IN)
    assert rows and all(row.phone.startswith("+") for row in rows)
    assert len({row.provider_message_id for row in rows}) == len(rows)


@EMBEDDED
def test_recorded_text_from_an_unknown_business_number_still_resolves(
    client: TestClient, container: Container, fake: FakeProviders
) -> None:
    raw = (DATA / "whatsapp_text.json").read_bytes()
    post_whatsapp(client, raw)
    (reply,) = fake.whatsapp_sent
    # The demo binds every WhatsApp number ("*"); the sender is not a member; recorded timestamps are
    # old, so the answer is the template.
    assert reply["to"] == "972987654321" and reply["type"] == "template"


@EMBEDDED
def test_a_failed_job_runs_again_and_skips_what_it_recorded(
    client: TestClient, container: Container, fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.jobs import inbound
    from core import messagelog

    first = wa_message("Hi", msg_id="wamid.ok")
    second = wa_message("Hi", msg_id="wamid.dbdown", wa_id="254700000003")
    batch = parse_webhook(wa_webhook(first, second))
    real = messagelog.record_inbound
    calls = {"n": 0}

    def flaky(uow, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if kwargs["provider_message_id"] == "wamid.dbdown" and calls["n"] <= 2:
            raise OSError("database unreachable")
        return real(uow, **kwargs)

    monkeypatch.setattr(messagelog, "record_inbound", flaky)
    ids = ["wamid.ok", "wamid.dbdown"]
    with pytest.raises(RuntimeError, match="1 whatsapp message"):
        inbound.handle_all(container, "whatsapp", batch.messages, "", ids)
    assert [body["to"] for body in fake.whatsapp_sent] == [MEMBER_WA]
    inbound.handle_all(container, "whatsapp", batch.messages, "", ids)  # RQ's retry
    assert [body["to"] for body in fake.whatsapp_sent] == [MEMBER_WA, "254700000003"]
    assert len(log_rows(container, Direction.IN)) == 2
