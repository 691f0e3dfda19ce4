"""Delivery reports from WhatsApp, Africa's Talking and Twilio, applied to the message log.

Statuses only move forward (``channels.base.STATUS_RANK``). A report can overtake our own record
of the send (the provider answers, then reports, before the sending job has committed the id):
an unknown id is tried once more a little later. Reports are also handed to the reminders'
delivery service (``services["delivery"].on_status``) when one is wired, since reminders and
broadcasts keep their own delivery state.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence

from bot.bootstrap import Container, current
from channels.base import STATUS_RANK, DeliveryStatus
from core import messagelog
from core.phones import mask
from core.tables import MessageStatus

_logger = logging.getLogger(__name__)

UNKNOWN_RETRY_DELAY = 15.0
FALLBACK_CODES = frozenset({"131047", "131026"})
"""WhatsApp failures after which a notice goes by SMS: window closed, undeliverable."""
OPTED_OUT_REASONS = frozenset({"21610", "UserInBlacklist"})
"""Delivery failures that mean the recipient blocked us (Twilio STOP, Africa's Talking blacklist)."""


def apply_reports(reports: str, attempt: int = 0) -> None:
    """Job: apply JSON-encoded delivery reports (from the SMS routes, or unknown ids retried)."""
    statuses = [DeliveryStatus(**raw) for raw in json.loads(reports)]
    apply(current(), statuses, attempt)


def reports_job(reports: str, job_id: str = "", ids: list[str] | None = None) -> None:
    """Job: delivery reports queued by the SMS routes (through the intake, hence its two extra arguments)."""
    apply(current(), [DeliveryStatus(**raw) for raw in json.loads(reports)])


def encode(statuses: Sequence[DeliveryStatus]) -> str:
    return json.dumps([dataclasses.asdict(status) for status in statuses])


def apply(container: Container, statuses: Sequence[DeliveryStatus], attempt: int = 0) -> None:
    """Apply each report; failures of notices fall back to SMS; unknown ids are retried once."""
    unknown: list[DeliveryStatus] = []
    for status in statuses:
        try:
            if not _apply_one(container, status):
                unknown.append(status)
        except Exception:
            _logger.exception("%s status %s for %s failed", status.provider, status.status, status.provider_message_id)
        delivery = container.services.get("delivery")
        if delivery is not None and attempt == 0:
            try:
                delivery.on_status(status.provider_message_id, status.status, status.error_code)
            except Exception:
                _logger.exception("reminder delivery status %s failed", status.provider_message_id)
    unknown = [status for status in unknown if not _a_reminder(container, status)]
    if unknown and attempt == 0:
        container.queue.enqueue(apply_reports, encode(unknown), 1, delay=UNKNOWN_RETRY_DELAY)


def _a_reminder(container: Container, status: DeliveryStatus) -> bool:
    """Reminders and broadcasts keep their own rows (``core.outbound``): no need to look again later."""
    from core import outbound

    with container.uow() as uow:
        return outbound.by_provider_id(uow, status.provider_message_id) is not None


def _apply_one(container: Container, status: DeliveryStatus) -> bool:
    """Apply one report; False when the message is not (yet) in the log."""
    now = container.clock.now()
    with container.uow() as uow:
        row = messagelog.apply_status(
            uow,
            provider=status.provider,
            provider_message_id=status.provider_message_id,
            status=status.status,
            rank=STATUS_RANK,
            at=now,
            error_code=status.error_code,
            error_message=status.error_message,
        )
        if row is None:
            return messagelog.find_outbound(uow, status.provider, status.provider_message_id) is not None
        blocked = status.status == "failed" and (status.error_code or "") in OPTED_OUT_REASONS
        if blocked:
            from bot.jobs.outbound import opt_out

            opt_out(uow, row.org_id, row.phone)
        uow.commit()
    if row.status == MessageStatus.FAILED:
        _logger.info("%s message to %s failed: %s", status.provider, mask(row.phone), status.error_code or "no code")
        if row.channel == "whatsapp" and row.purpose == "notice" and (status.error_code or "") in FALLBACK_CODES:
            from bot.jobs.outbound import sms_fallback

            sms_fallback(container, row.org_id, row.member_id, row.phone, row.content)
    return True
