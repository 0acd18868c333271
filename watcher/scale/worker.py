"""``watcher worker``: runs poll and entry jobs from the queue, any number on any machine.

A worker needs the configuration file, the database and the network; not the corpus
folder, which the scheduler writes. Each job runs the same pipeline stages as a pass of
``watcher run``: ``Pipeline.read_source`` for a poll, ``Pipeline.process_waiting`` for an
entry. A job for an entry that was settled meanwhile (a retried job whose first run had
finished) finds it no longer waiting and does nothing: the database, not the queue, says
what is done.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import ConnectorException
from sqlalchemy import Connection

from watcher.config import Config, SourceConfig, load_config
from watcher.dedup.neardup import NearDupRule
from watcher.errors import ConfigError
from watcher.fetch.http import Fetcher
from watcher.fetch.robots import RobotsCache
from watcher.pipeline import PassSettings, Pipeline
from watcher.scale.jobs import (
    ENTRY_TASK,
    POLL_TASK,
    QUEUE,
    conninfo,
    defer,
    ensure_queue_schema,
    entry_job,
)
from watcher.services.app import make_classifier
from watcher.services.workers import WorkerPool
from watcher.store import Store
from watcher.store.db import open_engine

__all__ = ["make_app", "run_worker"]

log = logging.getLogger(__name__)

# A job that raised (the database went away, most likely) is tried again; a source or
# an entry that fails is not an exception: the pipeline records it and plans its retry.
_RETRY = RetryStrategy(max_attempts=5, exponential_wait=5)
_RECHECK_SECONDS = 5.0  # a new mark or configuration reaches a worker within this
_RECONNECT_SECONDS = 2.0  # after the database was lost, before fetching jobs again


def make_app(dsn: str) -> App:
    """The procrastinate app with watcher's two tasks."""
    app = App(connector=PsycopgConnector(conninfo=dsn))
    app.task(name=POLL_TASK, queue=QUEUE, pass_context=True, retry=_RETRY)(_poll)
    app.task(name=ENTRY_TASK, queue=QUEUE, pass_context=True, retry=_RETRY)(_entry)
    return app


async def _poll(context: JobContext, feed_url: str) -> None:
    await _runtime(context).poll(feed_url)


async def _entry(context: JobContext, entry_id: int) -> None:
    await _runtime(context).entry(entry_id)


def _runtime(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime


class Runtime:
    """What a worker keeps between jobs: the store, the HTTP client, the analysis
    processes, and a pipeline rebuilt when the configuration file or the user's marks
    change (so a worker follows them without a restart)."""

    def __init__(self, config_path: Path, config: Config, store: Store, fetcher: Fetcher) -> None:
        self._path = config_path
        self._config = config
        self._store = store
        self._fetcher = fetcher
        self._pool: WorkerPool | None = None
        self._robots = RobotsCache()
        self._pipeline: Pipeline | None = None
        self._built_for: tuple[float, int] | None = None  # (config mtime, model version)
        self._checked = -_RECHECK_SECONDS  # when the file and the marks were last looked at
        self._reload = False

    def start(self, processes: int | None) -> None:
        self._pool = WorkerPool(processes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def reload(self) -> None:
        """SIGHUP: read the configuration file again before the next job (a changed
        file is read anyway; this is for a service manager's reload)."""
        self._reload = True

    async def poll(self, feed_url: str) -> None:
        pipeline = self._current()
        source = self._source(feed_url)
        state = self._store.source(feed_url)
        if source is None or state is None:
            log.info("poll_skipped", extra={"source": feed_url, "reason": "not configured"})
            return
        report, _jobs = await pipeline.read_source(source, state)  # jobs enqueued on commit
        log.info(
            "source_polled",
            extra={"source": source.name, "new": report.new, "error": report.error},
        )

    async def entry(self, entry_id: int) -> None:
        pipeline = self._current()
        waiting = self._store.waiting_entry(entry_id, datetime.now(UTC))
        if waiting is None:
            return  # settled meanwhile, or not due yet: the scheduler enqueues it then
        pending, feed_url = waiting
        report = await pipeline.process_waiting(self._source(feed_url), pending)
        log.info(
            "entry_processed",
            extra={"url": pending.link, "filed": report.filed, "failed": report.errors},
        )

    def _source(self, feed_url: str) -> SourceConfig | None:
        return next((s for s in self._config.sources if s.feed_url == feed_url), None)

    def _current(self) -> Pipeline:
        """The pipeline for the configuration and the marks as they are now (looked at
        every few seconds, not for every job)."""
        fresh = time.monotonic() - self._checked < _RECHECK_SECONDS
        if self._pipeline is not None and fresh and not self._reload:
            return self._pipeline
        self._checked = time.monotonic()
        mtime = _mtime(self._path)
        version = self._store.model_version()
        if self._pipeline is not None and self._built_for == (mtime, version) and not self._reload:
            return self._pipeline
        if self._reload or (self._built_for is not None and mtime != self._built_for[0]):
            self._reload = False
            try:
                self._config = load_config(self._path)
                log.info("config_reloaded", extra={"sources": len(self._config.sources)})
            except ConfigError as exc:
                log.error("config_reload_failed", extra={"error": str(exc)})
        assert self._pool is not None
        classifier = make_classifier(self._config, self._store)
        self._pipeline = Pipeline(
            PassSettings.of(self._config),
            self._store,
            self._fetcher,
            self._pool,
            classifier,
            robots=self._robots,
            write_files=False,
            settle_lock=self._store.settle_lock(),
        )
        self._built_for = (mtime, version)
        return self._pipeline


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def open_worker_store(config: Config) -> Store:
    """The database at head with the queue's tables, and new entries' jobs enqueued in
    the transaction that records them."""
    conninfo(config.storage.database_url)  # WatcherError unless PostgreSQL
    store = Store(open_engine(config.storage.database_url), NearDupRule.of(config.dedup))
    store.ensure_near_index()
    ensure_queue_schema(store.engine)
    store.entries_added = _enqueue_entries
    return store


def _enqueue_entries(connection: Connection, entry_ids: list[int]) -> None:
    defer(connection, [entry_job(entry_id) for entry_id in entry_ids])


async def _work(app: App, options: dict[str, Any]) -> bool:
    """Run jobs until a signal stops the worker (False) or the database is lost (True,
    after a pause: run again). procrastinate's worker ends when a query to fetch jobs
    fails; a database restart should not end a service that runs for months."""
    try:
        async with app.open_async():
            await app.run_worker_async(**options)
        return False
    except ConnectorException as exc:
        log.warning(
            "worker_database_lost",
            extra={"error": str(exc.__cause__ or exc), "retry_seconds": _RECONNECT_SECONDS},
        )
    return not await _stopped_within(_RECONNECT_SECONDS)


async def _stopped_within(seconds: float) -> bool:
    """Wait, ending early (True) on SIGTERM or SIGINT, which procrastinate's own
    handlers catch only while its worker runs."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
    return True


async def run_worker(config_path: Path, config: Config) -> None:
    """Run jobs, as ``[queue]`` says, until SIGTERM or SIGINT (procrastinate's handlers:
    the running jobs are given a few seconds, then abandoned; their work is found again
    by the scheduler)."""
    settings = config.queue
    store = open_worker_store(config)
    app = make_app(conninfo(config.storage.database_url))
    try:
        async with Fetcher(config.http) as fetcher:
            runtime = Runtime(config_path, config, store, fetcher)
            runtime.start(settings.processes)
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, runtime.reload)
            options: dict[str, Any] = {
                "queues": [QUEUE],
                "concurrency": settings.concurrency,
                "additional_context": {"runtime": runtime},
                "delete_jobs": "successful",
                "update_heartbeat_interval": settings.heartbeat_seconds,
                "stalled_worker_timeout": settings.stalled_seconds,
                "shutdown_graceful_timeout": 5.0,
                "install_signal_handlers": True,
            }
            log.info("worker_started", extra={"concurrency": settings.concurrency})
            try:
                while await _work(app, options):
                    pass
            finally:
                runtime.close()
    finally:
        store.close()
    log.info("worker_stopped")
