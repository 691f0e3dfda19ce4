"""Quiet hours: nothing is sent to members at night in their organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.tables import Organisation


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_today(org: Organisation, now: datetime) -> date:
    return now.astimezone(ZoneInfo(org.timezone)).date()


def is_quiet(org: Organisation, at: datetime) -> bool:
    """True inside ``[quiet_start, quiet_end)`` local time; the window may cross midnight."""
    start, end = _hhmm(org.quiet_start), _hhmm(org.quiet_end)
    local = at.astimezone(ZoneInfo(org.timezone)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(org: Organisation, at: datetime) -> datetime:
    """``at`` if sending is allowed then, else the end of the quiet hours (UTC).

    Wall-clock arithmetic in the local zone, so a daylight-saving org still wakes at 08:00.
    """
    if not is_quiet(org, at):
        return at.astimezone(UTC)
    zone = ZoneInfo(org.timezone)
    local = at.astimezone(zone)
    end = _hhmm(org.quiet_end)
    wake = datetime.combine(local.date(), end, tzinfo=zone)
    if wake <= local:
        wake = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return wake.astimezone(UTC)


def start_of_day(org: Organisation, day: date) -> datetime:
    """Local midnight of ``day`` as UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(org.timezone)).astimezone(UTC)


def send_after(org: Organisation, day: date, now: datetime) -> datetime:
    """When a reminder meant for local ``day`` may go: not before that day, never at night."""
    return next_allowed(org, max(now, start_of_day(org, day)))
