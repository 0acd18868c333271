"""``watcher run``: the long-running service, in one process and one event loop.

    start: worker pool, database (migrated), corpus reconciled
    every [schedule] check_seconds (an APScheduler 3 job, coalesced, one at a time):
    | the sources due now (watcher.schedule.is_due over the store's states)
    | one pass over them, holding the corpus lock (watcher.lock)
    | each polled source's next poll planned by the pass (watcher.schedule.plan)
    SIGHUP:  re-read the configuration; a bad file is reported and the old one kept
    SIGTERM, SIGINT: stop asking, abandon the pass in flight, exit 0

Abandoning a pass loses nothing: an entry counts as done only once its item is
committed, a corpus file is written atomically, and the next start resumes pending
entries and writes any file a committed item lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watcher.app import make_classifier, open_store
from watcher.config import Config, load_config
from watcher.errors import ConfigError
from watcher.health import HealthServer, Metrics
from watcher.http import Fetcher
from watcher.lock import pass_lock
from watcher.pipeline import PassReport, Pipeline
from watcher.robots import RobotsCache
from watcher.schedule import is_due
from watcher.store import Store
from watcher.workers import WorkerPool

__all__ = ["Daemon"]

log = logging.getLogger(__name__)

_STOP_GRACE_SECONDS = 5.0


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._path = config_path
        self._config = config
        self._clock = clock
        self._stopping = asyncio.Event()
        self._pass: asyncio.Task[PassReport | None] | None = None
        self.metrics = Metrics()
        self._robots = RobotsCache()  # a host's rules are read once a day, not once a pass

    @property
    def passes(self) -> int:
        """Passes completed since start."""
        return self.metrics.passes

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT. Raises StoreError, OSError (corpus folder) or
        WatcherError (the health address cannot be listened on) only at start-up; after
        that, a failing pass is logged and the next one runs."""
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, self._stop, number)
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        pool = WorkerPool()
        scheduler = AsyncIOScheduler(timezone=UTC)
        try:
            async with pass_lock(self._config.storage.corpus_dir):
                store = open_store(self._config)
            health = HealthServer(self.metrics, lambda: scheduler.running, store.ping)
            try:
                scheduler.add_job(
                    self._tick,
                    "interval",
                    args=(store, pool),
                    seconds=self._config.schedule.check_seconds,
                    next_run_time=datetime.now(UTC),
                    id="poll",
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=None,
                )
                scheduler.start()
                if self._config.daemon.listen:
                    await health.start(self._config.daemon.listen)
                log.info("daemon_started", extra={"sources": len(self._config.sources)})
                await self._stopping.wait()
            finally:
                scheduler.shutdown(wait=False)
                await self._abandon_pass()
                await health.close()
                store.close()
        finally:
            pool.close()
            for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(number)
        log.info("daemon_stopped", extra={"passes": self.metrics.passes})

    def _stop(self, number: int) -> None:
        log.info("daemon_stopping", extra={"signal": signal.Signals(number).name})
        self._stopping.set()

    def _reload(self) -> None:
        try:
            config = load_config(self._path)
        except ConfigError as exc:
            log.error("config_reload_failed", extra={"error": str(exc)})
            return
        self._config = config
        log.info("config_reloaded", extra={"sources": len(config.sources)})

    async def _tick(self, store: Store, pool: WorkerPool) -> None:
        """Start a pass over the sources that are due, unless one is running: one pass
        at a time, and the job itself returns at once (a long pass is no missed tick)."""
        if self._stopping.is_set() or (self._pass is not None and not self._pass.done()):
            return
        self._pass = asyncio.create_task(self._run_pass(store, pool, self._config))

    async def _run_pass(self, store: Store, pool: WorkerPool, config: Config) -> PassReport | None:
        now = self._clock()
        states = {s.feed_url: s for s in store.source_states([s.feed_url for s in config.sources])}
        waiting = store.sources_with_due_entries(now)
        due = [
            source
            for source in config.sources
            if (state := states.get(source.feed_url)) is None
            or is_due(state.next_poll_at, now, entries_due=state.id in waiting)
        ]
        if not due:
            return None
        try:
            async with pass_lock(config.storage.corpus_dir), Fetcher(config.http) as fetcher:
                classifier = make_classifier(config, store)
                pipeline = Pipeline(config, store, fetcher, pool, classifier, robots=self._robots)
                report = await pipeline.run(due)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database or the corpus folder failed under the pass: said, and the
            # next tick tries again (nothing counts as done that was not committed).
            log.exception("pass_failed", extra={"sources": len(due)})
            return None
        self.metrics.count(report, self._clock())
        log.info(
            "pass_finished",
            extra={
                "sources": len(due),
                "failed": sum(r.failed for r in report.sources),
                "new": sum(r.new for r in report.sources),
                "filed": sum(r.filed for r in report.sources),
            },
        )
        return report

    async def _abandon_pass(self) -> None:
        if self._pass is None or self._pass.done():
            return
        self._pass.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._pass, _STOP_GRACE_SECONDS)
        log.info("pass_abandoned")
