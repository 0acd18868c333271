"""``watcher scheduler``'s tick: hand out what the database says is due, and own the
corpus folder.

    sources due (their next poll is past)  -> a poll job each, unless one is queued or running
    entries waiting for a try              -> an entry job each, unless one is queued or running
    jobs of workers that stopped beating   -> back in the queue (another worker takes them)
    items named for a file not yet written -> written; the manifest rewritten when it changed

Which polls are queued or running is read in the transaction that enqueues, and one
scheduler runs at a time (a PostgreSQL advisory lock held for its life), so a restart
never enqueues a source twice. The database stays the record of what is to do: a job
lost with a worker, or an enqueue lost with a crash, is found again on the next tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from procrastinate import App, PsycopgConnector
from sqlalchemy import Connection, text

from watcher.config import Config
from watcher.corpus import refresh_manifest, write_unwritten
from watcher.errors import WatcherError
from watcher.scale.jobs import (
    POLL_TASK,
    conninfo,
    defer,
    ensure_queue_schema,
    entry_job,
    poll_job,
)
from watcher.services.lock import pass_lock
from watcher.store import Store

__all__ = ["Dispatcher", "TickReport"]

log = logging.getLogger(__name__)

_SCHEDULER_LOCK = 0x77736368  # "wsch": held by the one running scheduler
_SWEEP_LIMIT = 20_000  # entry jobs enqueued per tick at most; the rest next tick
_PRUNE_EVERY = timedelta(hours=1)
_KEEP_FAILED_HOURS = 7 * 24
# How long a tick waits for a queue connection. The pool reconnects in the background;
# with the database down, psycopg_pool's default (30 s) held one tick through a whole
# outage, saying nothing of it, where failing it lets the next tick try again and say why.
_QUEUE_CONNECT_WAIT = 3.0

_IN_FLIGHT = text(
    "SELECT queueing_lock FROM procrastinate_jobs"
    " WHERE task_name = :task AND status IN ('todo', 'doing')"
)
# No job for the entry queued (by its queueing lock) or running (by its lock).
_UNQUEUED = text(
    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
    " WHERE j.queueing_lock = 'entry:' || entries.id AND j.status = 'todo')"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
    " WHERE j.lock = 'entry:' || entries.id AND j.status = 'doing')"
)
_DEPTH = text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
_ANALYZE = text("ANALYZE procrastinate_jobs")


@dataclass(frozen=True, slots=True)
class TickReport:
    polls: int  # poll jobs enqueued
    entries: int  # entry jobs enqueued
    stalled: int  # jobs of dead workers put back
    written: int  # corpus files written


class Dispatcher:
    """The scheduler's work, tick by tick. ``start`` takes the one-scheduler lock and
    opens the queue; ``close`` gives both back."""

    def __init__(self, config: Config) -> None:
        dsn = conninfo(config.storage.database_url)  # WatcherError unless PostgreSQL
        self._stalled_seconds = config.queue.stalled_seconds
        self._app = App(
            connector=PsycopgConnector(
                conninfo=dsn, min_size=1, max_size=2, timeout=_QUEUE_CONNECT_WAIT
            )
        )
        self._holder: Connection | None = None
        self._pruned_at: datetime | None = None
        self._analyzed_depth = 0
        self._synced: Config | None = None  # the configuration whose sources have rows
        self._configured: set[str] = set()

    async def start(self, store: Store) -> None:
        """WatcherError when another scheduler runs against this database."""
        ensure_queue_schema(store.engine)
        holder = store.engine.connect()
        taken = holder.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _SCHEDULER_LOCK})
        if not taken.scalar():
            holder.close()
            raise WatcherError("another watcher scheduler is running against this database")
        holder.commit()  # the session lock outlives the transaction
        self._holder = holder
        await self._app.open_async()

    async def close(self) -> None:
        await self._app.close_async()
        if self._holder is not None:
            self._holder.close()  # ends the session: the lock goes with it
            self._holder = None

    async def tick(self, store: Store, config: Config, now: datetime) -> TickReport:
        polls = self._enqueue_polls(store, config, now)
        entries = self._enqueue_entries(store, now)
        self._refresh_statistics(store)
        stalled = await self._requeue_stalled()
        written = await self._write_corpus(store, Path(config.storage.corpus_dir), now)
        await self._prune(now)
        report = TickReport(polls, entries, stalled, written)
        if polls or entries or stalled or written:
            log.info(
                "dispatched",
                extra={"polls": polls, "entries": entries, "stalled": stalled, "written": written},
            )
        return report

    def _enqueue_polls(self, store: Store, config: Config, now: datetime) -> int:
        if config is not self._synced:  # at start, and after SIGHUP read a new file
            store.sync_sources(config.sources)
            self._synced, self._configured = config, {s.feed_url for s in config.sources}
        due = [(i, url) for i, url in store.due_sources(now) if url in self._configured]
        if not due:
            return 0
        with store.engine.begin() as connection:
            queued = set(connection.execute(_IN_FLIGHT, {"task": POLL_TASK}).scalars())
            jobs = [poll_job(i, url) for i, url in due if f"poll:{i}" not in queued]
            return defer(connection, jobs)

    def _enqueue_entries(self, store: Store, now: datetime) -> int:
        """Entries with no job: a worker's enqueue between the read and this one is
        skipped by the queueing lock; a job finished meanwhile leaves one that finds its
        entry settled and does nothing."""
        ids = store.unqueued_entries(now, _UNQUEUED, _SWEEP_LIMIT)
        with store.engine.begin() as connection:
            return defer(connection, [entry_job(entry_id) for entry_id in ids])

    def _refresh_statistics(self, store: Store) -> None:
        """ANALYZE the job table when its depth moved a lot since the last time.

        procrastinate's fetch query is planned from the table's statistics; planned for
        the near-empty table a new queue has, it scans every waiting job to take one
        (measured: 45 ms a job with 2,000 waiting, against 0.4 ms once analysed), and
        autovacuum analyses only after a minute or more. A burst of enqueued jobs, the
        first poll of many sources above all, would run at a tenth of its speed."""
        with store.engine.begin() as connection:
            depth = int(connection.execute(_DEPTH).scalar() or 0)
            if abs(depth - self._analyzed_depth) > max(100, self._analyzed_depth // 2):
                connection.execute(_ANALYZE)
                self._analyzed_depth = depth

    async def _requeue_stalled(self) -> int:
        """Jobs whose worker stopped sending heartbeats (killed, its machine gone) go back
        to the queue, for any worker to take."""
        manager = self._app.job_manager
        stalled = list(
            await manager.get_stalled_jobs(seconds_since_heartbeat=self._stalled_seconds)
        )
        for job in stalled:
            await manager.retry_job(job)
            log.warning(
                "job_requeued",
                extra={"task": job.task_name, "job": job.id, "arguments": job.task_kwargs},
            )
        return len(stalled)

    async def _write_corpus(self, store: Store, folder: Path, now: datetime) -> int:
        """Files for the articles the workers stored; the manifest when anything it
        lists changed. Under the folder's lock, as every corpus writer is."""
        async with pass_lock(folder):
            written = write_unwritten(store, folder, now)
            refresh_manifest(store, folder, changed=bool(written))
        return len(written)

    async def _prune(self, now: datetime) -> None:
        """Failed jobs are kept a week to be looked at (succeeded ones are deleted by the
        workers at once)."""
        if self._pruned_at is not None and now - self._pruned_at < _PRUNE_EVERY:
            return
        await self._app.job_manager.delete_old_jobs(
            nb_hours=_KEEP_FAILED_HOURS, include_failed=True, include_cancelled=True
        )
        self._pruned_at = now
