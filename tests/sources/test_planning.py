"""The due-source decision, adaptive intervals and backoff, as pure functions of a
source's state and a fixed ``now``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from watcher.sources.planning import Bounds, PollOutcome, health, is_due, plan

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
BOUNDS = Bounds(shortest=timedelta(minutes=15), longest=timedelta(days=1), backoff_cap=24 * HOUR)
FEED = "https://example.org/feed.xml"


def _plan(
    outcome: PollOutcome, *, stored: timedelta | None = None, failures: int = 0
) -> tuple[timedelta, timedelta]:
    planned = plan(
        FEED,
        NOW,
        configured=HOUR,
        stored=stored,
        failures_before=failures,
        outcome=outcome,
        bounds=BOUNDS,
    )
    return planned.interval, planned.next_poll_at - NOW


def test_a_source_is_due_when_never_polled_or_its_time_has_come() -> None:
    assert is_due(None, NOW)
    assert is_due(NOW, NOW)
    assert is_due(NOW - timedelta(seconds=1), NOW)
    assert not is_due(NOW + timedelta(seconds=1), NOW)


def test_new_entries_shorten_the_interval_and_quiet_polls_lengthen_it() -> None:
    busy, wait = _plan(PollOutcome(failed=False, new_entries=3))
    assert busy == timedelta(minutes=45)
    assert busy <= wait <= busy * 1.1, "jitter adds at most a tenth"
    quiet, _wait = _plan(PollOutcome(failed=False))
    assert quiet == timedelta(minutes=75)


def test_the_interval_stays_within_its_bounds() -> None:
    fastest, _ = _plan(PollOutcome(failed=False, new_entries=1), stored=timedelta(minutes=16))
    assert fastest == BOUNDS.shortest
    slowest, _ = _plan(PollOutcome(failed=False), stored=timedelta(hours=23))
    assert slowest == BOUNDS.longest


def test_the_server_may_ask_for_longer_but_not_for_ever() -> None:
    _interval, wait = _plan(PollOutcome(failed=False, server_hint=3 * HOUR))
    assert 3 * HOUR <= wait <= 3.3 * HOUR
    _interval, wait = _plan(PollOutcome(failed=False, server_hint=timedelta(days=365)))
    assert BOUNDS.longest <= wait <= BOUNDS.longest * 1.1
    interval, wait = _plan(PollOutcome(failed=False, new_entries=2, server_hint=timedelta(0)))
    assert interval <= wait <= interval * 1.1, "a hint of zero asks for nothing"


def test_failures_back_off_exponentially_up_to_the_cap_and_keep_the_interval() -> None:
    waits = []
    for failures in range(8):
        interval, wait = _plan(PollOutcome(failed=True), stored=HOUR, failures=failures)
        assert interval == HOUR, "a failure does not adapt the interval"
        waits.append(wait)
    assert HOUR <= waits[0] <= 1.1 * HOUR
    assert 2 * HOUR <= waits[1] <= 2.2 * HOUR
    assert 4 * HOUR <= waits[2] <= 4.4 * HOUR
    assert all(later >= earlier for earlier, later in itertools.pairwise(waits))
    assert BOUNDS.backoff_cap <= waits[-1] <= BOUNDS.backoff_cap * 1.1, "capped, never dropped"
    _interval, wait = _plan(PollOutcome(failed=True), stored=HOUR, failures=10_000)
    assert wait <= BOUNDS.backoff_cap * 1.1


def test_retry_after_is_honoured_on_a_failure() -> None:
    _interval, wait = _plan(PollOutcome(failed=True, retry_after=5 * HOUR), stored=HOUR)
    assert 5 * HOUR <= wait <= 5.5 * HOUR


def test_jitter_is_fixed_per_source_and_differs_between_sources() -> None:
    outcome = PollOutcome(failed=False)
    first = plan(
        FEED, NOW, configured=HOUR, stored=None, failures_before=0, outcome=outcome, bounds=BOUNDS
    )
    again = plan(
        FEED, NOW, configured=HOUR, stored=None, failures_before=0, outcome=outcome, bounds=BOUNDS
    )
    others = {
        plan(
            f"https://example.org/{i}.xml",
            NOW,
            configured=HOUR,
            stored=None,
            failures_before=0,
            outcome=outcome,
            bounds=BOUNDS,
        ).next_poll_at
        for i in range(20)
    }
    assert first == again
    assert len(others) == 20, "sources configured alike do not fire together"


def test_health_says_never_polled_failing_stale_or_ok() -> None:
    def state(**changes: object) -> str:
        values: dict[str, object] = {
            "polled": True,
            "failures": 0,
            "error_kind": None,
            "polls_without_new": 0,
            "stale_after": 20,
        }
        return health(**{**values, **changes})  # type: ignore[arg-type]

    assert state(polled=False) == "never polled"
    assert state() == "ok"
    assert state(failures=3, error_kind="http_5xx") == "failing (http_5xx, 3 in a row)"
    assert state(polls_without_new=20).startswith("stale (20 polls")
    assert state(polls_without_new=19) == "ok"
    assert state(failures=1, error_kind="dns", polls_without_new=50).startswith("failing")


def test_entries_waiting_for_their_try_make_a_source_due_before_its_poll() -> None:
    later = NOW + HOUR
    assert not is_due(later, NOW)
    assert is_due(later, NOW, entries_due=True)


def test_a_suspected_gap_is_shown_for_a_week() -> None:
    def state(gap_since: datetime | None) -> str:
        return health(
            polled=True,
            failures=0,
            error_kind=None,
            polls_without_new=0,
            stale_after=20,
            gap_since=gap_since,
            now=NOW,
        )

    assert state(NOW - HOUR).startswith("ok, possible gap")
    assert state(NOW - timedelta(days=8)) == "ok"
    assert state(None) == "ok"
