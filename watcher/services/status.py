"""``watcher status`` and the matching ``/metrics`` gauges: is the work keeping up?

Read from the database alone, so it answers for any deployment: the single-machine
daemon (sources and entries) or a scaled-out one (also the queue: jobs per task and
state, and workers alive by their heartbeats). Plain SQL over procrastinate's two
tables, read only: the status works without the ``scale`` extra installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import inspect, text

from watcher.scale import TASKS
from watcher.sources.planning import is_due
from watcher.store import Store

__all__ = ["QueueStatus", "Status", "metric_families", "read_status"]

_JOBS = text("SELECT task_name, status, count(*) FROM procrastinate_jobs GROUP BY 1, 2")
_WORKERS = text(
    "SELECT count(*) FILTER (WHERE last_heartbeat >= :alive), count(*), max(last_heartbeat)"
    " FROM procrastinate_workers"
)
_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")


@dataclass(frozen=True, slots=True)
class QueueStatus:
    jobs: dict[str, dict[str, int]]  # task -> state -> count
    workers_alive: int
    workers_stalled: int
    last_heartbeat: datetime | None

    @property
    def depth(self) -> int:
        """Jobs waiting to be taken."""
        return sum(states.get("todo", 0) for states in self.jobs.values())


@dataclass(frozen=True, slots=True)
class Status:
    at: datetime
    sources: int
    due: int
    oldest_due: str | None  # the source waiting longest for its poll
    oldest_due_since: datetime | None  # None with a source due: never polled
    entries_waiting: int  # due for a try now
    queue: QueueStatus | None  # None: no task queue in this database
    waiting_by_source: dict[str, int] = field(default_factory=dict)  # due or not, by name

    @property
    def overdue_seconds(self) -> float:
        """How long the longest-waiting due source has waited (0 if never polled)."""
        if self.oldest_due_since is None:
            return 0.0
        return (self.at - self.oldest_due_since).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        queue = None
        if self.queue is not None:
            queue = {
                "depth": self.queue.depth,
                "jobs": self.queue.jobs,
                "workers_alive": self.queue.workers_alive,
                "workers_stalled": self.queue.workers_stalled,
                "last_heartbeat": _iso(self.queue.last_heartbeat),
            }
        return {
            "at": _iso(self.at),
            "sources": self.sources,
            "due": self.due,
            "oldest_due": self.oldest_due,
            "oldest_due_since": _iso(self.oldest_due_since),
            "overdue_seconds": round(self.overdue_seconds, 1),
            "entries_waiting": self.entries_waiting,
            "entries_waiting_by_source": self.waiting_by_source,
            "queue": queue,
        }


def read_status(
    store: Store, sources: Mapping[str, str], now: datetime, *, alive_seconds: float
) -> Status:
    """The status of the configured sources (``sources``: feed URL to name; a source
    removed from the configuration is not waited for) and of the queue, if the database
    has one."""
    states = [state for state in store.source_states() if state.feed_url in sources]
    waiting = store.count_waiting(now)
    per_source = store.waiting_by_source()
    by_name = {state.name: per_source[state.id].count for state in states if state.id in per_source}
    with store.engine.connect() as connection:
        queue = None
        if inspect(connection).has_table("procrastinate_jobs"):
            queue = _queue(connection, now - timedelta(seconds=alive_seconds))
    due = [(s.next_poll_at, s.name) for s in states if is_due(s.next_poll_at, now)]
    stored = {state.feed_url for state in states}
    due += [(None, name) for url, name in sources.items() if url not in stored]
    # Never polled first (it has waited since it was configured), then the longest due.
    oldest = min(due, key=lambda pair: (pair[0] is not None, pair[0] or now), default=None)
    return Status(
        at=now,
        sources=len(sources),
        due=len(due),
        oldest_due=oldest[1] if oldest is not None else None,
        oldest_due_since=oldest[0] if oldest is not None else None,
        entries_waiting=waiting,
        queue=queue,
        waiting_by_source=by_name,
    )


def _queue(connection: Any, alive: datetime) -> QueueStatus:
    jobs = {task: dict.fromkeys(_STATES, 0) for task in TASKS}  # a series per task, always
    for task, state, count in connection.execute(_JOBS):
        jobs.setdefault(task, dict.fromkeys(_STATES, 0))[str(state)] = int(count)
    alive_count, total, last = connection.execute(_WORKERS, {"alive": alive}).one()
    return QueueStatus(
        jobs=jobs,
        workers_alive=int(alive_count or 0),
        workers_stalled=int(total or 0) - int(alive_count or 0),
        last_heartbeat=last,  # timestamptz: aware
    )


def metric_families(status: Status) -> list[Metric]:
    """The status as Prometheus gauges, for ``/metrics``."""
    families: list[Metric] = [
        GaugeMetricFamily(
            "watcher_sources_due", "Configured sources whose poll is due now.", status.due
        ),
        GaugeMetricFamily(
            "watcher_oldest_due_seconds",
            "How long the longest-waiting due source has waited.",
            round(status.overdue_seconds, 1),
        ),
        GaugeMetricFamily(
            "watcher_entries_waiting",
            "Entries waiting for their first or next try.",
            status.entries_waiting,
        ),
    ]
    if status.queue is None:
        return families
    jobs = GaugeMetricFamily(
        "watcher_queue_jobs", "Jobs in the task queue by task and state.", labels=["task", "state"]
    )
    for task, states in sorted(status.queue.jobs.items()):
        for state, count in states.items():
            jobs.add_metric([task, state], count)
    families += [
        jobs,
        GaugeMetricFamily(
            "watcher_queue_depth", "Jobs waiting to be taken by a worker.", status.queue.depth
        ),
        GaugeMetricFamily(
            "watcher_workers_alive",
            "Workers whose heartbeat is recent.",
            status.queue.workers_alive,
        ),
    ]
    return families


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
