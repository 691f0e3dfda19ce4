"""Reminder jobs: plan (daily), dispatch (every minute), deliver (one batch), officer summaries (weekly).

Module-level functions taking plain values, so RQ can import them by dotted path; they get
their collaborators from :func:`bot.bootstrap.current`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

_logger = logging.getLogger(__name__)


def _container() -> Any:
    from bot.bootstrap import current

    return current()


def plan_reminders(day: str | None = None, org_slug: str | None = None) -> list[dict[str, Any]]:
    """Plan every organisation's reminders for its local today (or ``day``), then dispatch."""
    from core import reminders

    container = _container()
    with container.uow() as uow:
        results = reminders.plan_all(
            uow, container.clock.now(), org_slug=org_slug, day=date.fromisoformat(day) if day else None
        )
    for result in results:
        _logger.info(
            "planned %s for %s: %d new of %d due (%d opted out)",
            result.org_slug,
            result.day,
            result.inserted,
            result.candidates,
            result.skipped_opted_out,
        )
    dispatch_reminders()
    return [{"org": r.org_slug, "day": r.day.isoformat(), "inserted": r.inserted} for r in results]


def dispatch_reminders() -> dict[str, int]:
    """Queue delivery jobs for everything whose ``send_after`` has come."""
    queued: dict[str, int] = _container().services["delivery"].dispatch()
    if any(queued.values()):
        _logger.info("dispatched %s", queued)
    return queued


def deliver_batch(kind: str, ids: list[int]) -> dict[str, int]:
    """Send one batch of reminders (``kind="reminder"``) or broadcast messages (``"broadcast"``)."""
    return dict(_container().services["delivery"].deliver(kind, ids))


def send_officer_summaries() -> int:
    """Create this week's summary broadcast to each organisation's officers (once per week), then dispatch."""
    from bot import summaries

    container = _container()
    made = summaries.create_all(container.uow, container.clock.now())
    dispatch_reminders()
    return made


def cancel_settled_reminders(org_id: int, member_id: int) -> int:
    """After a payment: cancel the member's pending reminders whose item is now paid."""
    from core import pay_offers

    with _container().uow() as uow:
        cancelled = pay_offers.cancel_settled(uow, org_id, member_id)
        uow.commit()
    if cancelled:
        _logger.info("cancelled %d reminders of member %s after a payment", cancelled, member_id)
    return cancelled
