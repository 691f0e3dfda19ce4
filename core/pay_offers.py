"""Reply to pay: the "Pay now" offer a sent reminder leaves behind, and stopping reminders once paid.

An offer is not stored separately: it is the member's latest pay-now reminder sent today (local
time) whose item is still unpaid. Replying "1" by SMS, tapping "Pay now" on WhatsApp
(payload ``pay:<reminder id>``) or dialling USSD that day opens the pay flow pre-filled, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from core import due_items, quiet_hours
from core.clock import as_utc
from core.tables import DeliveryState, Organisation, Reminder, TargetKind
from core.uow import UnitOfWork

PAYLOAD_PREFIX = "pay:"
TAPPABLE_DAYS = 7
"""A WhatsApp "Pay now" button still works this many days after its reminder."""

_OFFERING = (DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.QUEUED, DeliveryState.SENDING)


@dataclass(frozen=True, slots=True)
class PayOffer:
    reminder_id: int
    target_kind: TargetKind
    target_id: str
    amount: int
    """What is unpaid now (not when the reminder was written)."""
    reference: str
    due_date: date


def payload(reminder_id: int) -> str:
    return f"{PAYLOAD_PREFIX}{reminder_id}"


def parse_payload(value: str | None) -> int | None:
    if not value or not value.startswith(PAYLOAD_PREFIX):
        return None
    rest = value[len(PAYLOAD_PREFIX) :]
    return int(rest) if rest.isdigit() and len(rest) < 18 else None


def _offer(uow: UnitOfWork, reminder: Reminder) -> PayOffer | None:
    amount = due_items.still_due(uow, reminder.org_id, reminder.target_kind, reminder.target_id)
    if amount <= 0 or reminder.id is None:
        return None
    return PayOffer(
        reminder.id, TargetKind(reminder.target_kind), reminder.target_id, amount, reminder.reference, reminder.due_date
    )


def offer_today(uow: UnitOfWork, org: Organisation, member_id: int, now: datetime) -> PayOffer | None:
    """The latest unused pay-now reminder sent to the member today, if its item is still unpaid."""
    since = quiet_hours.start_of_day(org, quiet_hours.local_today(org, now))
    reminder = uow.session.exec(
        select(Reminder)
        .where(
            Reminder.org_id == org.id,
            Reminder.member_id == member_id,
            col(Reminder.pay_now).is_(True),
            col(Reminder.state).in_(_OFFERING),
            col(Reminder.sent_at) >= since,
            col(Reminder.offer_used_at).is_(None),
        )
        .order_by(col(Reminder.sent_at).desc())
    ).first()
    return _offer(uow, reminder) if reminder is not None else None


def offer_by_id(uow: UnitOfWork, org: Organisation, member_id: int, reminder_id: int, now: datetime) -> PayOffer | None:
    """The offer behind a tapped "Pay now" button: the member's own, recent, still unpaid."""
    reminder = uow.session.get(Reminder, reminder_id)
    if reminder is None or reminder.org_id != org.id or reminder.member_id != member_id or not reminder.pay_now:
        return None
    sent = reminder.sent_at
    if sent is None or now - as_utc(sent) > timedelta(days=TAPPABLE_DAYS):
        return None
    return _offer(uow, reminder)


def use(uow: UnitOfWork, reminder_id: int, now: datetime) -> None:
    """Mark the offer as taken so the next dial shows the usual menu; the caller commits."""
    reminder = uow.session.get(Reminder, reminder_id)
    if reminder is not None and reminder.offer_used_at is None:
        reminder.offer_used_at = now
        uow.session.add(reminder)


def cancel_settled(uow: UnitOfWork, org_id: int, member_id: int) -> int:
    """Cancel the member's not-yet-sent reminders whose item is now paid; the caller commits.

    Called when a payment is confirmed. Checks each open item against the ledger rather than
    trusting the payment's purpose, so a payment that settles several installments (or a cash
    posting by the office) stops every reminder it settles.
    """
    open_rows = list(
        uow.session.exec(
            select(Reminder).where(
                Reminder.org_id == org_id,
                Reminder.member_id == member_id,
                col(Reminder.state).in_([DeliveryState.PLANNED, DeliveryState.QUEUED]),
            )
        )
    )
    verdicts: dict[tuple[str, str], int] = {}
    cancelled = 0
    for row in open_rows:
        key = (str(row.target_kind), row.target_id)
        if key not in verdicts:
            verdicts[key] = due_items.still_due(uow, org_id, row.target_kind, row.target_id)
        if verdicts[key] <= 0:
            row.state = DeliveryState.CANCELLED
            row.error = "paid"
            uow.session.add(row)
            cancelled += 1
    return cancelled
