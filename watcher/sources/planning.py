"""When a source is polled next. Pure functions of its state and ``now``.

- Each source has an interval of its own. It starts at the source's
  ``interval_minutes`` and adapts: a poll that brought new entries shortens it by a
  quarter, a poll with none lengthens it by a quarter, within the configured bounds,
  so a busy wire is read often and a quarterly journal is not asked every hour.
- The server may ask for less: a feed's ``<ttl>``, ``Cache-Control: max-age`` or
  ``Expires`` put the next poll no sooner than they say (up to the longest interval:
  a year-long max-age must not silence a source).
- Failures back off: the interval doubles with each consecutive failure, up to a cap
  (a day by default), and never comes sooner than ``Retry-After``. A failing source is
  never dropped: it is tried again at the cap for as long as it fails.
- Jitter: up to a tenth of the interval, fixed per source (a hash of its URL), so that
  sources configured alike do not all fire at once, and keep their spread over restarts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watcher.config import ScheduleConfig
    from watcher.store import SourceState

__all__ = [
    "Bounds",
    "Plan",
    "PollOutcome",
    "health",
    "is_due",
    "next_interval",
    "next_poll_at",
    "plan",
    "state_health",
]

_FASTER = 0.75
_SLOWER = 1.25
_JITTER = 0.1
_GAP_SHOWN = timedelta(days=7)  # how long a suspected gap is mentioned


@dataclass(frozen=True, slots=True)
class Bounds:
    shortest: timedelta
    longest: timedelta
    backoff_cap: timedelta

    @classmethod
    def of(cls, settings: ScheduleConfig) -> Bounds:
        """The bounds ``[schedule]`` sets."""
        return cls(
            shortest=timedelta(minutes=settings.shortest_minutes),
            longest=timedelta(minutes=settings.longest_minutes),
            backoff_cap=timedelta(hours=settings.max_backoff_hours),
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of a source came to, as far as its schedule cares."""

    failed: bool
    new_entries: int = 0
    server_hint: timedelta | None = None  # <ttl>, max-age, Expires: no sooner than this
    retry_after: timedelta | None = None  # the server's Retry-After on a failure


@dataclass(frozen=True, slots=True)
class Plan:
    next_poll_at: datetime
    interval: timedelta  # the adapted interval, stored for the next poll


def plan(
    feed_url: str,
    now: datetime,
    *,
    configured: timedelta,
    stored: timedelta | None,
    failures_before: int,
    outcome: PollOutcome,
    bounds: Bounds,
) -> Plan:
    """After a poll: the source's adapted interval and when to poll it next.

    ``stored`` is the interval adapted so far (None before the first poll: the
    configured one); ``failures_before`` the consecutive failures before this poll."""
    current = _clamp(stored or configured, bounds.shortest, bounds.longest)
    interval = next_interval(current, outcome, bounds)
    failures = failures_before + 1 if outcome.failed else 0
    return Plan(next_poll_at(feed_url, now, interval, failures, outcome, bounds), interval)


def is_due(next_poll: datetime | None, now: datetime, *, entries_due: bool = False) -> bool:
    """Never polled, or its time has come, or entries of it wait for their (re)try: a
    pass cut short by a crash resumes at the next start, not at the feed's next poll."""
    return next_poll is None or next_poll <= now or entries_due


def next_interval(current: timedelta, outcome: PollOutcome, bounds: Bounds) -> timedelta:
    """The source's adapted interval after a successful poll (unchanged by a failure:
    the backoff is applied on top of it, and forgotten at the next success)."""
    if outcome.failed:
        return current
    factor = _FASTER if outcome.new_entries else _SLOWER
    return _clamp(current * factor, bounds.shortest, bounds.longest)


def next_poll_at(
    feed_url: str,
    now: datetime,
    interval: timedelta,
    failures: int,
    outcome: PollOutcome,
    bounds: Bounds,
) -> datetime:
    """When to poll next, given the interval now in effect and the consecutive failures
    (this poll's included)."""
    if outcome.failed:
        doublings = min(max(0, failures - 1), 30)  # past 30 any interval is over the cap
        wait = min(interval * (1 << doublings), bounds.backoff_cap)
        wait = max(wait, outcome.retry_after or timedelta(0))
    else:
        hint = min(outcome.server_hint, bounds.longest) if outcome.server_hint else timedelta(0)
        wait = max(interval, hint)
    return now + wait + _jitter(feed_url, wait)


def _jitter(feed_url: str, wait: timedelta) -> timedelta:
    digest = hashlib.sha256(feed_url.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:4], "big") / 2**32
    return wait * (_JITTER * fraction)


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))


def health(
    *,
    polled: bool,
    failures: int,
    error_kind: str | None,
    polls_without_new: int,
    stale_after: int,
    gap_since: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """One word (and its reason) for a source's state, as lists and the digest show it.

    A dead feed often still answers 200: a source that answers but has brought nothing
    new for ``stale_after`` polls is *stale*, which a failure count would never show."""
    if not polled:
        return "never polled"
    if failures:
        return f"failing ({error_kind or 'error'}, {failures} in a row)"
    if polls_without_new >= stale_after:
        return f"stale ({polls_without_new} polls, nothing new)"
    if gap_since and now and now - gap_since < _GAP_SHOWN:
        return f"ok, possible gap {gap_since:%Y-%m-%d %H:%M}"
    return "ok"


def state_health(state: SourceState, stale_after: int, now: datetime) -> str:
    """``health`` of a source as the store holds it: what `watcher sources list` and the
    review page's sources show."""
    return health(
        polled=state.last_polled_at is not None,
        failures=state.consecutive_failures,
        error_kind=state.last_error_kind,
        polls_without_new=state.polls_without_new,
        stale_after=stale_after,
        gap_since=state.gap_suspected_at,
        now=now,
    )
