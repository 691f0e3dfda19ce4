"""Delivering reminders and broadcasts: dispatch due rows in batches, route, send, record.

``dispatch`` claims due rows (atomically, so two dispatchers never share one) and queues one
job per ``batch_size`` rows; ``deliver`` sends one batch. Each message is committed as
``sending`` before the provider is called and as ``sent`` right after, so a retried job never
sends a message twice (a crash in between leaves it in ``sending`` for review, not resent).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.jobs.queue import JobQueue
from bot.outbound import Senders
from bot.pacing import TokenBuckets
from channels.errors import ProviderError, RecipientOptedOut
from core import broadcasts, due_items, messagelog, outbound, pay_offers, quiet_hours, reminder_rules, routing
from core.clock import Clock
from core.phones import mask
from core.tables import DeliveryState, Member, Organisation, Reminder, ReminderRule
from core.uow import UnitOfWork, UowFactory
from flows.i18n import t

_logger = logging.getLogger(__name__)

WindowLookup = Callable[[UnitOfWork, int, str, datetime], bool]
"""``window(uow, org_id, phone, now)``: did the member write on WhatsApp in the last 24 hours?"""


def no_window(_uow: UnitOfWork, _org_id: int, _phone: str, _now: datetime) -> bool:
    return False


@dataclass(slots=True)
class DeliveryConfig:
    batch_size: int = 500
    """Messages per delivery job: RQ's per-job overhead stays small next to the sending."""
    max_attempts: int = 5
    backoff: tuple[int, ...] = (60, 300, 900, 3600)
    """Seconds before attempt 2, 3, ... after a transient error (the last one repeats)."""
    per_member_per_day: int = 1
    """Reminders per member per local day; the most urgent wins, the rest are skipped."""
    rates: dict[str, float] = field(default_factory=lambda: {"whatsapp": 20.0, "sms": 10.0})
    """Messages per second per sending number, per channel."""
    template_name: str = "jumbe_notice"
    pay_template_name: str = "jumbe_reminder_pay"
    """Approved templates: one body parameter (the text); the pay one has a quick-reply button."""
    dispatch_limit: int = 100_000


@dataclass(slots=True)
class Outcome:
    state: DeliveryState
    channel: str | None = None
    message_id: str | None = None
    error: str | None = None
    provider: str = ""
    kind: str = "text"
    """What was sent, for the message log: ``text``, ``interactive`` or ``template``."""
    opted_out: bool = False
    """The provider says the recipient blocked us (Twilio 21610, Africa's Talking blacklist)."""


class Delivery:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        queue: JobQueue,
        senders: Senders,
        *,
        config: DeliveryConfig | None = None,
        window: WindowLookup = no_window,
        buckets: TokenBuckets | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.queue = queue
        self.senders = senders
        self.config = config or DeliveryConfig()
        self.window = window
        self.buckets = buckets or TokenBuckets(self.config.rates)

    # -- dispatch ---------------------------------------------------------------------------

    def dispatch(self) -> dict[str, int]:
        """Queue every due reminder and broadcast message; returns ``{kind: messages queued}``."""
        from bot.jobs import reminders as jobs

        queued: dict[str, int] = {}
        for kind in ("reminder", "broadcast"):
            with self.uow_factory() as uow:
                rows = outbound.due(uow, kind, self.clock.now(), self.config.dispatch_limit)
                ids = (
                    outbound.within_limits(uow, rows, self.config.per_member_per_day, self.clock.now())
                    if kind == "reminder"
                    else [r[0] for r in rows]
                )
                won = outbound.claim(uow, kind, ids)
                uow.commit()
            calls = [
                (jobs.deliver_batch, (kind, list(chunk))) for chunk in due_items.chunks(won, self.config.batch_size)
            ]
            if calls:
                self.queue.enqueue_many(calls)
            queued[kind] = len(won)
        return queued

    # -- delivery -----------------------------------------------------------------------------

    def deliver(self, kind: str, ids: Sequence[int]) -> Counter[str]:
        """Send one batch; returns how many ended in each state."""
        tally: Counter[str] = Counter()
        touched: set[int] = set()
        for row_id in ids:
            outcome, broadcast_id = self._deliver_one(kind, row_id)
            if outcome is not None:
                tally[str(outcome.state)] += 1
            if broadcast_id is not None:
                touched.add(broadcast_id)
        if touched:
            with self.uow_factory() as uow:
                for broadcast_id in touched:
                    broadcasts.refresh_counts(uow, broadcast_id)
                uow.commit()
        return tally

    def _deliver_one(self, kind: str, row_id: int) -> tuple[Outcome | None, int | None]:
        with self.uow_factory() as uow:
            row = outbound.start_sending(uow, kind, row_id)
            if row is None:
                uow.rollback()
                return None, None
            broadcast_id = getattr(row, "broadcast_id", None)
            member = uow.session.get(Member, row.member_id)
            org = uow.session.get(Organisation, row.org_id)
            assert member is not None and org is not None
            early = self._precheck(uow, org, member, row)
            if early is not None:
                outbound.finish(row, early.state, error=early.error)
                uow.session.add(row)
                uow.commit()
                return early, broadcast_id
            whatsapp = self.senders.whatsapp(org.id or 0)
            sms = self.senders.sms(org.id or 0)
            steps = routing.route(
                preferred=member.preferred_channel,
                whatsapp_available=whatsapp is not None,
                window_open=whatsapp is not None and self.window(uow, org.id or 0, member.phone, self.clock.now()),
                whatsapp_tried=row.channel == "whatsapp",
                sms_available=sms is not None,
            )
            uow.session.add(row)
            uow.commit()  # ``sending`` is durable before any provider hears of it
            message = _Message(row.id or 0, member.phone, row.body, row.lang, row.pay_now, org.id or 0)
            attempts = row.attempts
        outcome = self._send(message, steps, whatsapp, sms, attempts)
        with self.uow_factory() as uow:
            fresh: Any = uow.session.get(outbound.model(kind), row_id)
            assert fresh is not None
            self._log(uow, kind, fresh, message, outcome)
            if outcome.state == DeliveryState.SENT:
                outbound.mark_sent(fresh, outcome.channel or "", outcome.message_id or "", self.clock.now())
            elif outcome.state == DeliveryState.PLANNED:
                wait = self.config.backoff[min(attempts - 1, len(self.config.backoff) - 1)]
                org = uow.session.get(Organisation, fresh.org_id)
                assert org is not None
                later = quiet_hours.next_allowed(org, self.clock.now() + timedelta(seconds=wait))
                outbound.retry_later(fresh, later, outcome.error or "transient error")
            else:
                outbound.finish(fresh, outcome.state, channel=outcome.channel, error=outcome.error)
                outbound.announce_failure(uow, fresh, self.clock.now())
            uow.session.add(fresh)
            uow.commit()
        return outcome, broadcast_id

    def _log(self, uow: UnitOfWork, kind: str, row: outbound.Row, message: _Message, outcome: Outcome) -> None:
        """Keep the message log (admin API, support) complete; a blocked recipient is opted out."""
        if outcome.opted_out:
            from bot.jobs.outbound import opt_out

            opt_out(uow, row.org_id, message.phone)
        if outcome.channel is None or outcome.state not in (DeliveryState.SENT, DeliveryState.FAILED):
            return
        now = self.clock.now()
        entry = messagelog.record_outbound(
            uow,
            org_id=row.org_id,
            member_id=row.member_id,
            phone=message.phone,
            channel=outcome.channel,
            provider=outcome.provider or outcome.channel,
            kind=outcome.kind,
            purpose=kind,
            content=row.body,
            at=now,
        )
        assert entry.id is not None
        if outcome.state == DeliveryState.SENT:
            messagelog.mark_sent(uow, entry.id, outcome.message_id or "", "sent", now)
        else:
            messagelog.mark_failed(uow, entry.id, (outcome.error or "failed")[:40], outcome.error or "", now)

    def _precheck(self, uow: UnitOfWork, org: Organisation, member: Member, row: outbound.Row) -> Outcome | None:
        """Last look before sending: still reachable, still owed (the amount re-read and re-rendered)."""
        if member.opted_out or not member.active:
            return Outcome(DeliveryState.SKIPPED, error="opted out")
        if not isinstance(row, Reminder):
            return None
        amount = due_items.still_due(uow, org.id or 0, row.target_kind, row.target_id)
        if amount <= 0:
            return Outcome(DeliveryState.CANCELLED, error="paid")
        if amount != row.amount:
            rule = uow.session.get(ReminderRule, row.rule_id)
            if rule is not None:
                row.amount = amount
                row.body = reminder_rules.render(
                    reminder_rules.template_of(rule, row.lang),
                    reminder_rules.values(
                        name=member.name,
                        amount=amount,
                        currency=org.currency,
                        due_date=row.due_date,
                        reference=row.reference,
                        org=org.name,
                    ),
                )[:640]
        return None

    def _send(
        self,
        message: _Message,
        steps: Sequence[routing.Step],
        whatsapp: Any,
        sms: Any,
        attempts: int,
    ) -> Outcome:
        if not steps:
            return Outcome(DeliveryState.FAILED, error="no channel configured")
        errors: list[str] = []
        opted_out = False
        for step in steps:
            self.buckets.take(f"{step.channel}:{message.org_id}", step.channel)
            try:
                message_id = self._send_step(message, step, whatsapp, sms)
            except ProviderError as exc:
                errors.append(f"{step.channel}:{exc.code}")
                opted_out = opted_out or isinstance(exc, RecipientOptedOut)
                if exc.transient:
                    _logger.warning("reminder %s to %s: transient %r", message.id, mask(message.phone), exc)
                    if attempts >= self.config.max_attempts:
                        return Outcome(DeliveryState.DEAD, error="; ".join(errors))
                    return Outcome(DeliveryState.PLANNED, error="; ".join(errors))
                _logger.info("reminder %s to %s: %s refused %r", message.id, mask(message.phone), step.channel, exc)
                continue
            provider = "whatsapp" if step.channel == "whatsapp" else str(getattr(sms, "provider", "sms"))
            return Outcome(
                DeliveryState.SENT,
                channel=step.channel,
                message_id=message_id,
                provider=provider,
                kind=_kind(step, message.pay_now),
            )
        last = steps[-1]
        provider = "whatsapp" if last.channel == "whatsapp" else str(getattr(sms, "provider", "sms"))
        return Outcome(
            DeliveryState.FAILED,
            channel=last.channel,
            error="; ".join(errors),
            provider=provider,
            kind=_kind(last, message.pay_now),
            opted_out=opted_out,
        )

    def _send_step(self, message: _Message, step: routing.Step, whatsapp: Any, sms: Any) -> str:
        pay = pay_offers.payload(message.id) if message.pay_now else None
        if step.channel == "sms":
            body = f"{message.body} {t(message.lang, 'reminders.reply_to_pay')}" if pay else message.body
            return str(sms.send_text(message.phone, body))
        if step.template:
            name = self.config.pay_template_name if pay else self.config.template_name
            return str(whatsapp.send_template(message.phone, name, message.lang, [message.body], button_payload=pay))
        buttons = [(pay, t(message.lang, "reminders.pay_now"))] if pay else []
        return str(whatsapp.send_text(message.phone, message.body, buttons=buttons))

    # -- provider callbacks -------------------------------------------------------------------

    def on_status(self, provider_message_id: str, status: str, error_code: str | None = None) -> None:
        """Apply a delivery report; a failed WhatsApp message is handed to SMS instead."""
        from bot.jobs import reminders as jobs

        with self.uow_factory() as uow:
            found = outbound.by_provider_id(uow, provider_message_id)
            if found is None:
                return
            if status == "failed" and found[1].channel == "whatsapp":
                requeued = outbound.whatsapp_failed(uow, provider_message_id, error_code or "failed")
            else:
                requeued = None
                changed = outbound.on_status(uow, provider_message_id, status, error_code)
                if changed is not None:
                    outbound.announce_failure(uow, changed[1], self.clock.now())
            uow.commit()
        if requeued is not None:
            self.queue.enqueue(jobs.deliver_batch, requeued[0], [requeued[1]])

    def on_whatsapp_failed(self, provider_message_id: str, code: str | int) -> None:
        self.on_status(provider_message_id, "failed", str(code))


def _kind(step: routing.Step, pay_now: bool) -> str:
    if step.channel == "sms":
        return "text"
    if step.template:
        return "template"
    return "interactive" if pay_now else "text"


@dataclass(frozen=True, slots=True)
class _Message:
    id: int
    phone: str
    body: str
    lang: str
    pay_now: bool
    org_id: int
