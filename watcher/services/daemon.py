"""``watcher run``: the long-running service, in one process and one event loop.

    start: worker pool, database (migrated), corpus reconciled
    every [schedule] check_seconds (an APScheduler 3 job, coalesced, one at a time):
    | the sources due now (watcher.sources.planning.is_due over the store's states)
    | one pass over them, holding the corpus lock (watcher.services.lock)
    | each polled source's next poll planned by the pass (watcher.sources.planning.plan)
    at [digest] send_at in its time zone (a cron trigger), when there are recipients:
    | each recipient's digest not yet sent for that slot, off the event loop
    | a failure is retried after 10 minutes, doubling up to 3 hours
    | at start-up, a slot missed while the daemon was down is served once
    SIGHUP:  re-read the configuration; a bad file is reported and the old one kept
    SIGTERM, SIGINT: stop asking, abandon the pass in flight, exit 0

As ``watcher scheduler`` (a ``Dispatch`` given), a tick hands the due work to the task
queue instead of running a pass (watcher.scale.scheduler); the rest is the same.

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
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from prometheus_client.core import Metric

from watcher.config import Config, SourceConfig, load_config
from watcher.delivery.digest import deliver_digests, last_send_time, next_send_time
from watcher.errors import ConfigError
from watcher.fetch.http import Fetcher
from watcher.fetch.robots import RobotsCache
from watcher.pipeline import PassSettings, Pipeline
from watcher.report import PassReport
from watcher.services.app import make_classifier, open_store
from watcher.services.lock import pass_lock
from watcher.services.status import metric_families, read_status
from watcher.services.workers import WorkerPool
from watcher.sources.planning import is_due
from watcher.store import Store
from watcher.web.app import WebContext, make_app
from watcher.web.metrics import Metrics
from watcher.web.security import web_password
from watcher.web.server import WebServer

__all__ = ["Daemon", "Dispatch"]

log = logging.getLogger(__name__)

_STOP_GRACE_SECONDS = 5.0
_DIGEST_RETRY = timedelta(minutes=10)  # after a failed send; doubles
_DIGEST_RETRY_CAP = timedelta(hours=3)


class Dispatch(Protocol):
    """What a tick does instead of a pass when the work is done by queue workers."""

    async def start(self, store: Store) -> None: ...

    async def tick(self, store: Store, config: Config, now: datetime) -> object: ...

    async def close(self) -> None: ...


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        dispatch: Dispatch | None = None,
    ) -> None:
        self._path = config_path
        self._config = config
        self._clock = clock
        self._dispatch = dispatch
        self._stopping = asyncio.Event()
        self._pass: asyncio.Task[PassReport | None] | None = None
        self.metrics = Metrics()
        self._robots = RobotsCache()  # a host's rules are read once a day, not once a pass
        self._scheduler: AsyncIOScheduler | None = None
        self._store: Store | None = None
        self._digest_failures = 0

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
        pool = WorkerPool(0 if self._dispatch else None)  # a scheduler analyses nothing
        scheduler = AsyncIOScheduler(timezone=UTC)
        try:
            async with pass_lock(self._config.storage.corpus_dir):
                store = open_store(self._config)
            if self._dispatch is not None:
                try:
                    await self._dispatch.start(store)
                except BaseException:
                    store.close()
                    raise
            self.metrics.status = partial(self._status, store)
            web = _web_server(self, store, lambda: scheduler.running)
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
                self._scheduler, self._store = scheduler, store
                if self._config.daemon.listen:  # first: a bad address stops before any work
                    await web.start(self._config.daemon.listen, web_password())
                self._schedule_digest(catch_up=True)
                scheduler.start()
                log.info("daemon_started", extra={"sources": len(self._config.sources)})
                await self._stopping.wait()
            finally:
                if scheduler.running:
                    scheduler.shutdown(wait=False)
                await self._abandon_pass()
                await web.close()
                if self._dispatch is not None:
                    await self._dispatch.close()
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
        self._schedule_digest(catch_up=False)
        log.info("config_reloaded", extra={"sources": len(config.sources)})

    def _schedule_digest(self, *, catch_up: bool) -> None:
        """The digest's cron job as the configuration says (none without recipients);
        at start-up, also a run now for a slot missed while the daemon was down."""
        scheduler, settings = self._scheduler, self._config.digest
        if scheduler is None:
            return
        if scheduler.get_job("digest") is not None:
            scheduler.remove_job("digest")
        if not settings.recipients:
            if scheduler.get_job("digest-retry") is not None:
                scheduler.remove_job("digest-retry")  # a retry for nobody
            return
        trigger = CronTrigger(
            hour=settings.send_at.hour,
            minute=settings.send_at.minute,
            second=settings.send_at.second,
            timezone=settings.zone(),
        )
        scheduler.add_job(
            self._digest,
            trigger,
            id="digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        missed = catch_up and self._missed_digest()
        if missed:
            scheduler.add_job(
                self._digest,
                "date",
                run_date=self._clock(),
                id="digest-retry",
                replace_existing=True,
                max_instances=1,
            )
        upcoming = next_send_time(self._clock(), settings.send_at, settings.zone())
        log.info(
            "digest_scheduled",
            extra={
                "next": upcoming.isoformat(),
                "recipients": len(settings.recipients),
                "missed_sent_now": missed,
            },
        )

    def _status(self, store: Store) -> list[Metric]:
        """/metrics' gauges on sources, entries and the queue, read when asked."""
        feeds = {source.feed_url: source.name for source in self._config.sources}
        alive = self._config.queue.stalled_seconds
        return metric_families(read_status(store, feeds, self._clock(), alive_seconds=alive))

    @property
    def config(self) -> Config:
        """The configuration now (SIGHUP may have read a new one)."""
        return self._config

    def _missed_digest(self) -> bool:
        """Whether a recipient who has had digests lacks the latest slot's: a
        recipient new to this configuration waits for the next send time."""
        assert self._store is not None
        settings = self._config.digest
        slot = last_send_time(self._clock(), settings.send_at, settings.zone())
        return any(
            self._store.has_digests(r) and not self._store.digest_done(r, slot)
            for r in settings.recipients
        )

    async def _digest(self) -> None:
        """Each recipient's digest for the latest slot, unless already sent for it."""
        store, config = self._store, self._config
        assert store is not None
        assert self._scheduler is not None
        now = self._clock()
        slot = last_send_time(now, config.digest.send_at, config.digest.zone())
        waiting = [r for r in config.digest.recipients if not store.digest_done(r, slot)]
        if not waiting:
            return
        try:
            outcomes = await deliver_digests(store, config, now=now, slot=slot, recipients=waiting)
        except Exception:
            log.exception("digest_failed")  # the database, most likely: try again later
            outcomes = []
        if outcomes and all(o.status != "failed" for o in outcomes):
            self._digest_failures = 0
            return
        self._digest_failures += 1
        wait = min(_DIGEST_RETRY * 2 ** (self._digest_failures - 1), _DIGEST_RETRY_CAP)
        self._scheduler.add_job(
            self._digest,
            "date",
            run_date=now + wait,
            id="digest-retry",
            replace_existing=True,
            max_instances=1,
        )
        log.warning("digest_retry_scheduled", extra={"wait_seconds": wait.total_seconds()})

    async def _tick(self, store: Store, pool: WorkerPool) -> None:
        """Start a pass over the sources that are due, unless one is running: one pass
        at a time, and the job itself returns at once (a long pass is no missed tick)."""
        if self._stopping.is_set() or (self._pass is not None and not self._pass.done()):
            return
        self._pass = asyncio.create_task(self._run_pass(store, pool, self._config))

    async def _run_pass(self, store: Store, pool: WorkerPool, config: Config) -> PassReport | None:
        now = self._clock()
        if self._dispatch is not None:
            await self._dispatch_once(store, config, now)
            return None
        due: list[SourceConfig] = []
        try:
            due = _due(store, config.sources, now)
            if not due:
                return None
            async with pass_lock(config.storage.corpus_dir), Fetcher(config.http) as fetcher:
                classifier = make_classifier(config, store)
                pipeline = Pipeline(
                    PassSettings.of(config),
                    store,
                    fetcher,
                    pool,
                    classifier,
                    robots=self._robots,
                    settle_lock=store.settle_lock(),
                )
                report = await pipeline.run(due)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database or the corpus folder failed under the pass (or before it,
            # asking what is due): said, and the next tick tries again (nothing counts
            # as done that was not committed).
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

    async def _dispatch_once(self, store: Store, config: Config, now: datetime) -> None:
        assert self._dispatch is not None
        try:
            await self._dispatch.tick(store, config, now)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("dispatch_failed")  # the database, most likely: the next tick
            return
        self.metrics.passes += 1
        self.metrics.last_pass_at = self._clock()

    async def _abandon_pass(self) -> None:
        if self._pass is None or self._pass.done():
            return
        self._pass.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._pass, _STOP_GRACE_SECONDS)
        log.info("pass_abandoned")


def _due(store: Store, sources: list[SourceConfig], now: datetime) -> list[SourceConfig]:
    """The sources to poll now: never polled, due by their schedule, or holding
    entries whose retry time has come."""
    states = {s.feed_url: s for s in store.source_states([s.feed_url for s in sources])}
    waiting = store.sources_with_due_entries(now)
    return [
        source
        for source in sources
        if (state := states.get(source.feed_url)) is None
        or is_due(state.next_poll_at, now, entries_due=state.id in waiting)
    ]


def _web_server(daemon: Daemon, store: Store, alive: Callable[[], bool]) -> WebServer:
    """The review page and the operator's paths, on the daemon's loop and store."""
    context = WebContext(store, lambda: daemon.config, daemon.metrics, alive, web_password())
    return WebServer(make_app(context))
