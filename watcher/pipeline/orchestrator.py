"""One pass over sources: the stages put in order, nothing more.

for each source (concurrently; one failing source never stops the others):
| FeedPoller.poll                 fetch, parse, admit new entries, plan the next poll
|                                 -> SourceReport, its new entries' Jobs
| + earlier entries whose retry is due (store)
| EntryProcessor.run              for each job (concurrently, bounded by the fetcher):
|                                 page -> analysis (worker) -> look, decide, carry out
|                                 -> EntryOutcome, counted in the SourceReport
nearly every source failed one network way? -> the machine is offline: forgiven
CorpusFiler.finish_pass           files marked, manifest written once -> PassReport
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from watcher.config import SourceConfig
from watcher.dedup.urls import canonical_url
from watcher.fetch.http import Fetcher
from watcher.fetch.robots import RobotsCache
from watcher.pipeline.filer import CorpusFiler
from watcher.pipeline.job import Job
from watcher.pipeline.poller import FeedPoller
from watcher.pipeline.processor import EntryProcessor, Progress
from watcher.pipeline.settings import PassSettings
from watcher.relevance.classify import Classifier
from watcher.report import PassReport, SourceReport, StageTimes, seems_offline
from watcher.services.workers import WorkerPool
from watcher.sources.feeds import FeedEntry
from watcher.sources.reading import SourceReader
from watcher.store import PendingEntry, SettleLock, SourceState, Store

__all__ = ["MANUAL_SOURCE", "Pipeline"]

log = logging.getLogger(__name__)

MANUAL_SOURCE = "urn:watcher:command-line"
_MANUAL_NAME = "(command line)"


class Pipeline:
    def __init__(
        self,
        settings: PassSettings,
        store: Store,
        fetcher: Fetcher,
        workers: WorkerPool,
        classifier: Classifier,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Progress | None = None,
        robots: RobotsCache | None = None,
        write_files: bool = True,
        settle_lock: SettleLock | None = None,
    ) -> None:
        """``robots``: a cache of robots.txt rules to share with other passes (the
        daemon's); by default, one for this pass. ``write_files``: false for queue
        workers (``CorpusFiler``). ``settle_lock``: ``Store.settle_lock()``, with which
        articles settle on more than one thread (``EntryProcessor``)."""
        self._settings = settings
        self._store = store
        self._clock = clock
        self.times = StageTimes()
        self._filer = CorpusFiler(settings.corpus, store, write_files, self.times)
        reader = SourceReader(fetcher, workers, settings.max_bytes)
        self._poller = FeedPoller(settings, store, fetcher, reader, clock, self.times)
        self._processor = EntryProcessor(
            settings,
            store,
            fetcher,
            workers,
            workers.share(classifier),
            self._filer,
            clock=clock,
            progress=progress or (lambda _name, _delta: None),
            robots=(robots or RobotsCache()) if settings.respect_robots else None,
            settle_lock=settle_lock,
            times=self.times,
        )
        self._waiting: set[int] = set()  # sources with entries due for a try, at pass start

    async def run(self, sources: Sequence[SourceConfig], urls: Sequence[str] = ()) -> PassReport:
        try:
            return await self._run(sources, urls)
        finally:
            self._processor.close()

    async def _run(self, sources: Sequence[SourceConfig], urls: Sequence[str]) -> PassReport:
        self._filer.start_pass()
        # One query for the pass, not one per source: most sources have nothing waiting.
        self._waiting = self._store.sources_with_due_entries(self._clock())
        states = self._store.sync_sources(sources)
        tasks = [self.poll_source(source, states[source.feed_url]) for source in sources]
        if urls:
            tasks.append(self.fetch_urls(urls))
        reports = await asyncio.gather(*tasks)
        offline = seems_offline(reports) if len(sources) > 1 else None
        if offline is not None:
            self._forgive(reports, offline)
        self._filer.finish_pass(self._clock())
        seconds = {stage: round(spent, 3) for stage, spent in self.times.seconds.items()}
        log.info("pass_times", extra={"seconds": seconds})
        return PassReport(tuple(reports), offline, dict(self.times.seconds))

    async def poll_source(self, source: SourceConfig, state: SourceState) -> SourceReport:
        """Poll one feed and process its entries. Never raises: failures are reported."""
        report, jobs = await self._poller.poll(source, state)
        if state.id in self._waiting:
            due = self._store.due_retries(state.id, self._clock(), (j.entry_id for j in jobs))
            jobs += [Job.waiting(pending) for pending in due]
        await self._processor.run(source.name, source.language, jobs, report, source.fetch_page)
        return report

    async def read_source(
        self, source: SourceConfig, state: SourceState
    ) -> tuple[SourceReport, list[Job]]:
        """Poll one feed, its jobs not run (a queue worker enqueues them). Never raises."""
        return await self._poller.poll(source, state)

    async def process_waiting(
        self, source: SourceConfig | None, pending: PendingEntry
    ) -> SourceReport:
        """One entry that waits for a try (a queue job's), as a pass would process it;
        ``source`` None: the command line's or a source since removed from the
        configuration. Never raises."""
        name = source.name if source else _MANUAL_NAME
        report = SourceReport(name, source.feed_url if source else MANUAL_SOURCE)
        fetch_page = source.fetch_page if source else True
        language = source.language if source else None
        await self._processor.run(name, language, [Job.waiting(pending)], report, fetch_page)
        return report

    async def fetch_urls(self, urls: Sequence[str]) -> SourceReport:
        """Single article URLs given on the command line, as one pseudo-source."""
        state = self._store.sync_manual_source(MANUAL_SOURCE, _MANUAL_NAME)
        report = SourceReport(_MANUAL_NAME, MANUAL_SOURCE)
        entries = [FeedEntry(canonical_url(url), None, url, None, None, (), None) for url in urls]
        jobs = self._poller.admit(state, entries, report, first_poll=False, max_age_days=0)
        await self._processor.run(report.name, None, jobs, report)
        if jobs and report.errors == len(jobs):
            report.error, report.error_kind = "every URL failed", "failed"
        tried = {job.link for job in jobs}
        report.warnings += [self._known_url(url) for url in dict.fromkeys(urls) if url not in tried]
        return report

    def _known_url(self, url: str) -> str:
        """What watcher has of a URL named again on the command line."""
        item = self._store.find_item(url)
        if item is None:
            return f"{url}: seen before without an article (it failed or waits for a try)"
        verdict = "relevant" if item.relevant else "not relevant"
        said = f"{url}: already item {item.id} ({verdict}, {item.score:.2f})"
        if item.user_mark:
            return f"{said}, marked {item.user_mark}"
        if item.file:
            return f"{said}, filed as {item.file}"
        return f"{said}: `watcher items mark {item.id} relevant` files it"

    def _forgive(self, reports: Sequence[SourceReport], kind: str) -> None:
        """The machine seems offline: said once, and neither the sources nor their
        entries are backed off or brought nearer to being given up for it."""
        log.warning(
            "machine_offline",
            extra={"kind": kind, "sources": sum(r.failed for r in reports)},
        )
        retry_at = self._clock() + self._settings.bounds.shortest
        failed = [r for r in reports if r.error_kind == kind and r.source_id is not None]
        for report in failed:
            report.offline = True
        self._store.forgive_polls([r.source_id for r in failed if r.source_id], retry_at)
        entries = [
            f.entry_id
            for r in reports
            for f in r.failures
            if f.kind == kind and f.entry_id is not None
        ]
        self._store.forgive_entries(entries)
