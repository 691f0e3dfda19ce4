"""Processing what the chat webhooks acknowledged: run the engine, send the replies, apply statuses.

The routes queue one job per webhook with the raw payload. A job handles only the messages it
owns: those whose de-duplication key holds its job id (Redis intake), or the ids it was given
(embedded intake). Each message is then recorded in the message log, whose unique provider id
is the last guard against a redelivery; the contact's 24-hour window moves; the engine answers;
the reply is rendered for the channel and sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime

from bot.bootstrap import Container, current
from bot.engine import Turn
from bot.jobs import outbound, statuses
from bot.replies import PAGINATORS, sms_messages, sms_text, whatsapp_messages
from bot.sessions import SessionBusy
from channels.sms import africastalking
from channels.whatsapp import parse_webhook
from core import contacts, members, messagelog
from core.phones import mask
from core.tables import Organisation
from core.uow import UnitOfWork
from flows.i18n import t
from flows.messages import ChannelName, Inbound, Text

_logger = logging.getLogger(__name__)


def process_whatsapp(body: bytes, job_id: str, ids: list[str] | None = None) -> None:
    """Job: one signed WhatsApp webhook (statuses, then the messages this job owns)."""
    container = current()
    try:
        batch = parse_webhook(json.loads(body))
    except ValueError:
        _logger.warning("whatsapp webhook job %s: body is not JSON; ignored", job_id)
        return
    for error in batch.errors:
        _logger.warning("whatsapp webhook error %s: %s %s", error.code, error.title, error.details)
    if batch.statuses:
        statuses.apply(container, batch.statuses)
    handle_all(container, "whatsapp", batch.messages, job_id, ids)


def process_sms(provider: str, form: str, job_id: str, ids: list[str] | None = None) -> None:
    """Job: one inbound SMS from Africa's Talking or Twilio (its form fields, JSON-encoded)."""
    container = current()
    fields = json.loads(form)
    if provider == "twilio":
        from channels.sms import twilio

        inbound = twilio.parse_inbound(fields)
    else:
        inbound = africastalking.parse_inbound(fields)
    if inbound is None:
        _logger.warning("%s sms job %s: nothing to process", provider, job_id)
        return
    handle_all(container, provider, [inbound], job_id, ids)


def handle_all(
    container: Container, namespace: str, messages: Sequence[Inbound], job_id: str, ids: list[str] | None
) -> None:
    """Handle, in payload order, each message this job owns (once, even if repeated in the payload).

    A message that fails does not stop the others; the job then fails, so RQ runs it again, and
    the message log skips the messages that were recorded the first time.
    """
    if not messages:
        return
    if ids is not None:
        owned = set(ids)
    else:
        candidates = list(dict.fromkeys(m.provider_message_id for m in messages))
        owned = container.services["intake"].owned(namespace, candidates, job_id)
    failed = 0
    for message in messages:
        if message.provider_message_id not in owned:
            continue
        owned.discard(message.provider_message_id)
        try:
            handle(container, message)
        except Exception:
            failed += 1
            _logger.exception(
                "%s message %s from %s failed", namespace, message.provider_message_id, mask(message.phone_e164)
            )
    if failed:
        raise RuntimeError(f"{failed} {namespace} message(s) failed; the job will run again")


def handle(container: Container, inbound: Inbound) -> None:
    """Record, answer and reply to one inbound message."""
    engine = container.engine
    org = engine.resolve_org(inbound.channel, inbound.binding)
    if org is None or org.id is None:
        _logger.warning("no organisation bound to %s %r; message dropped", inbound.channel, inbound.binding)
        return
    now = container.clock.now()
    received = min(inbound.received_at or now, now)
    with container.uow() as uow:
        member = members.find_by_phone(uow, org.id, inbound.phone_e164)
        row = messagelog.record_inbound(
            uow,
            org_id=org.id,
            member_id=member.id if member else None,
            phone=inbound.phone_e164,
            channel=str(inbound.channel),
            provider=inbound.provider,
            provider_message_id=inbound.provider_message_id,
            kind=_kind(inbound),
            at=now,
        )
        if row is None or row.id is None:
            _logger.info("%s message %s seen before; skipped", inbound.provider, inbound.provider_message_id)
            return
        contacts.touch(
            uow,
            org.id,
            inbound.phone_e164,
            str(inbound.channel),
            received,
            provider=inbound.provider,
            binding=inbound.binding,
        )
        uow.commit()
        row_id = row.id
    lang = (member.language if member else None) or org.default_language
    turn, failed = _answer(container, inbound, lang)
    content = f"[{inbound.unsupported}]" if inbound.unsupported else inbound.text
    with container.uow() as uow:
        messagelog.finish_inbound(
            uow, row_id, content, secret=turn.secret_input, failed=failed, at=container.clock.now()
        )
        delivery = _reply(uow, container, org, inbound, turn, received)
        uow.commit()
    if delivery is not None:
        outbound.send(container, delivery)


def _answer(container: Container, inbound: Inbound, lang: str) -> tuple[Turn, bool]:
    try:
        return container.engine.handle(inbound, PAGINATORS[inbound.channel]), False
    except SessionBusy:
        return Turn([Text(t(lang, "common.try_again"))], ends=False, lang=lang), False
    except Exception:
        _logger.exception("%s message from %s: the engine failed", inbound.channel, mask(inbound.phone_e164))
        return Turn([Text(t(lang, "common.service_error"))], ends=True, lang=lang), True


def _reply(
    uow: UnitOfWork,
    container: Container,
    org: Organisation,
    inbound: Inbound,
    turn: Turn,
    received: datetime,
) -> outbound.Delivery | None:
    assert org.id is not None
    phone = inbound.phone_e164
    if inbound.channel == ChannelName.WHATSAPP:
        window = contacts.window_open(received, container.clock.now())
        items = whatsapp_messages(
            turn.messages, phone, turn.lang, page=turn.page, window_open=window, settings=container.settings
        )
        provider, sender = "whatsapp", inbound.binding
        fallback = sms_text(turn.messages, turn.lang, page=turn.page) if window else ""
    else:
        items = sms_messages(turn.messages, turn.lang, page=turn.page)
        clients = container.services["provider_clients"]
        provider = inbound.provider
        # Answer from the short code or number the member wrote to.
        sender = inbound.binding or clients.sms_sender_id(provider)
        fallback = ""
    if not items:
        return None
    return outbound.record(
        uow,
        container,
        items,
        org_id=org.id,
        member_id=turn.member_id,
        phone=phone,
        channel=str(inbound.channel),
        provider=provider,
        sender=sender,
        purpose=outbound.REPLY,
        lang=turn.lang,
        fallback=fallback,
    )


def _kind(inbound: Inbound) -> str:
    if inbound.unsupported:
        return inbound.unsupported
    if inbound.choice_id:
        return "choice"
    return "sms" if inbound.channel == ChannelName.SMS else "text"
