"""The queue's vocabulary: task names, the jobs for a source and an entry, and how they
are enqueued inside a caller's transaction.

Two locks per job (procrastinate's): ``queueing_lock`` keeps one job per source or entry
waiting in the queue, ``lock`` keeps two from running at once, so a source is never
polled by two workers together however often the scheduler restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from procrastinate import SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager
from procrastinate.types import JSONValue
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from watcher.errors import WatcherError
from watcher.scale import ENTRY_TASK, POLL_TASK, QUEUE

__all__ = [
    "ENTRY_TASK",
    "POLL_TASK",
    "QUEUE",
    "conninfo",
    "defer",
    "ensure_queue_schema",
    "entry_job",
    "poll_job",
]

log = logging.getLogger(__name__)

_SCHEMA_LOCK = 0x77717565  # "wque": the advisory lock held while the queue's tables are made

# Deferring on a caller's connection never touches the connector's pool: never opened.
_MANAGER = JobManager(connector=SyncPsycopgConnector())


def conninfo(database_url: str) -> str:
    """The libpq form of a PostgreSQL SQLAlchemy URL; WatcherError for any other."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise WatcherError(
            "the task queue needs PostgreSQL: set [storage] database_url to a"
            f" postgresql+psycopg:// URL (it is {url.get_backend_name()})"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def poll_job(source_id: int, feed_url: str) -> Job:
    return _job(POLL_TASK, f"source:{source_id}", f"poll:{source_id}", {"feed_url": feed_url})


def entry_job(entry_id: int) -> Job:
    lock = f"entry:{entry_id}"
    return _job(ENTRY_TASK, lock, lock, {"entry_id": entry_id})


def _job(task: str, lock: str, queueing_lock: str, arguments: dict[str, JSONValue]) -> Job:
    return Job(
        queue=QUEUE,
        task_name=task,
        lock=lock,
        queueing_lock=queueing_lock,
        task_kwargs=arguments,
    )


def defer(connection: Connection, jobs: Sequence[Job]) -> int:
    """Enqueue ``jobs`` in the transaction ``connection`` is in: they are committed with
    the caller's writes or not at all. A job whose queueing lock already has one waiting
    is skipped (each try runs under a savepoint, so the transaction survives it).
    Returns how many were enqueued."""
    if not jobs:
        return 0
    raw = connection.connection.driver_connection
    try:
        with connection.begin_nested():
            _MANAGER.batch_defer_jobs(jobs=list(jobs), connection=raw)
        return len(jobs)
    except AlreadyEnqueued:
        pass  # rare: only a race with another enqueuer; one at a time finds which
    enqueued = 0
    for job in jobs:
        try:
            with connection.begin_nested():
                _MANAGER.batch_defer_jobs(jobs=[job], connection=raw)
            enqueued += 1
        except AlreadyEnqueued:
            continue
    return enqueued


def ensure_queue_schema(engine: Engine) -> bool:
    """Make procrastinate's tables in watcher's database if they are absent; whether it
    did. Held under an advisory lock: a scheduler and workers starting together on a
    new database make them once."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        if inspect(connection).has_table("procrastinate_jobs"):
            return False
        # psycopg itself, without parameters: the script holds "%" signs of its own.
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(SchemaManager.get_schema())
    log.info("queue_schema_created")
    return True
