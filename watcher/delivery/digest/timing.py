"""When digests are due: pure functions of ``now``, the send time and its zone.

The daemon's cron trigger fires at these times; start-up asks ``last_send_time`` which
slot should have been served, so a digest missed while the daemon was down goes out
once, when it starts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["last_send_time", "next_send_time"]


def next_send_time(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The first send time strictly after ``now``, in UTC.

    Wall-clock time in ``zone``: 07:00 stays 07:00 across a daylight-saving change. A
    time that does not exist that day (skipped by the clocks going forward) is sent at
    the same offset after the change, as cron does; a repeated one, at its first."""
    local = now.astimezone(zone)
    for days in range(3):
        day = local.date() + timedelta(days=days)
        candidate = _at(day, send_at, zone)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a day always has a send time")


def last_send_time(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The latest send time at or before ``now``, in UTC: the slot that should be served."""
    local = now.astimezone(zone)
    for days in range(3):
        day = local.date() - timedelta(days=days)
        candidate = _at(day, send_at, zone)
        if candidate <= now:
            return candidate
    raise AssertionError("unreachable: a day always has a send time")


def _at(day: date, send_at: time, zone: ZoneInfo) -> datetime:
    # fold=0: a wall time in a spring-forward gap takes the offset before the change
    # (02:30 becomes 03:30 summer time); a repeated one is its first occurrence.
    return datetime.combine(day, send_at.replace(tzinfo=None), tzinfo=zone).astimezone(UTC)
