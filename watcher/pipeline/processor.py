"""One entry processed: its page, its analysis in a worker, then settled in the store.

    known URL?                              -> duplicate, no download
    robots.txt allows it? (cached per host) -> else failed: robots
    fetch page                              -> Response | FetchError (retried if transient)
    analyse (worker process): extract, fingerprint, classify
                                            -> Analysed | ExtractFailed
    settle, under the settle lock: look (store reads) -> decide (pure) -> carry out
    corpus file, off the event loop         -> EntryOutcome

Every path ends in an ``EntryOutcome``; a failure is recorded on the entry's row (and
retried later when it may pass) before its outcome is returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime

from watcher.analyse import Analysed, analyse
from watcher.dedup.identity import ArticleIdentity
from watcher.dedup.neardup import Passage
from watcher.dedup.urls import canonical_url, url_hash
from watcher.errors import FetchError
from watcher.extraction.page import ExtractFailed, feed_page, full_text
from watcher.fetch.http import Fetcher, Response
from watcher.fetch.robots import RobotsCache
from watcher.pipeline.decider import Archived, Duplicate, Intent, NewArticle, decide, look
from watcher.pipeline.filer import CorpusFiler, Filing
from watcher.pipeline.job import Job
from watcher.pipeline.settings import PassSettings
from watcher.relevance.classify import Classifier
from watcher.report import EntryFailure, EntryOutcome, SourceReport, StageTimes
from watcher.services.workers import Shared, WorkerCrashed, WorkerPool
from watcher.store import FileNumberTaken, SettleLock, Store

__all__ = ["EntryProcessor", "Progress", "SettleLock"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (source name, +pages queued or -1 when one is done)

_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_PAGE_TYPES = ("html", "xml", "text/plain", "application/pdf")
_FEED_PAGE = "text/html; charset=utf-8"
_SETTLE_ATTEMPTS = 20  # corpus numbers tried before the entry is left for the next pass
# Settling threads when a lock keeps copies of one article apart: 2 take the 2,000-page
# pass of bench/scale.py on PostgreSQL from 18.7 s to 17.9 s with one analysis process
# and from 18.9 s to 16.6 s with two; the third adds little more (the event loop's own
# work is then the limit).
_LOCKED_SETTLERS = 2


class EntryProcessor:
    def __init__(
        self,
        settings: PassSettings,
        store: Store,
        fetcher: Fetcher,
        workers: WorkerPool,
        classifier: Shared[Classifier],
        filer: CorpusFiler,
        *,
        clock: Callable[[], datetime],
        progress: Progress,
        robots: RobotsCache | None,
        settle_lock: SettleLock | None,
        times: StageTimes | None = None,
    ) -> None:
        """``classifier``: shared with the worker processes already (``WorkerPool.share``).
        ``settle_lock(keys)`` (``Store.settle_lock``) is held while an article is checked
        against the stored ones and stored, given the keys it can be found by
        (``Fingerprint.lock_keys``), and yields the transaction that step runs in. With
        it, articles settle on ``_LOCKED_SETTLERS`` threads; without it (SQLite), on one,
        so that step never interleaves."""
        self._settings = settings
        self._store = store
        self._fetcher = fetcher
        self._workers = workers
        self._classifier = classifier
        self._filer = filer
        self._clock = clock
        self._progress = progress
        self._robots = robots
        self._settle_lock = settle_lock
        self._times = times or StageTimes()
        # The workers read passages by the store's rule: the store may keep theirs.
        self._same_rule = settings.near == store.dedup
        # Articles settle on threads of their own, so the event loop goes on fetching
        # pages while the database works. A settle is mostly waiting on the database
        # (PostgreSQL: some six round trips, and the server's work on the insert), so
        # under the lock a second thread settles while the first waits.
        settlers = 1 if settle_lock is None else _LOCKED_SETTLERS
        self._settler = ThreadPoolExecutor(settlers, thread_name_prefix="watcher-settle")

    async def run(
        self,
        name: str,
        language: str | None,
        jobs: list[Job],
        report: SourceReport,
        fetch_page: bool = True,
    ) -> None:
        """Process one source's jobs concurrently (the fetcher bounds them), counting
        each outcome in its report and saying its failures grouped."""
        if not jobs:
            return
        self._progress(name, len(jobs))
        outcomes = await asyncio.gather(
            *(self._process(name, language, job, fetch_page) for job in jobs)
        )
        for outcome in outcomes:
            report.count(outcome)
        _log_failures(name, report)

    def close(self) -> None:
        """Let the settling thread end (a settle under way is finished first)."""
        self._settler.shutdown(wait=True)

    async def _process(
        self, source: str, language: str | None, job: Job, fetch_page: bool
    ) -> EntryOutcome:
        try:
            return await self._process_entry(source, language, job, fetch_page)
        except Exception as exc:
            # One entry's surprise must not end the pass. Its row stays pending or
            # failed, so it is tried again (and given up after MAX_ATTEMPTS).
            log.exception("entry_crashed", extra={"source": source, "url": job.link})
            detail = f"unexpected {type(exc).__name__}: {exc}"
            try:
                return self._failed(source, job, "extract_error", detail, transient=True)
            except Exception:
                log.exception("entry_not_recorded", extra={"source": source, "url": job.link})
                return EntryOutcome.failed(EntryFailure(job.link, "extract_error", detail, True))
        finally:
            self._progress(source, -1)

    async def _process_entry(
        self, source: str, language: str | None, job: Job, fetch_page: bool
    ) -> EntryOutcome:
        link = canonical_url(job.link)
        known = None if job.link_checked else self._known_item(link)
        if known is not None:
            self._store.mark_entry_done(
                job.entry_id, outcome="duplicate", item_id=known, duplicate=True, now=self._clock()
            )
            return EntryOutcome("duplicate")
        analysed = await self._analyse(source, language, job, fetch_page)
        if isinstance(analysed, EntryOutcome):
            return analysed
        article = analysed.article
        identity = ArticleIdentity.of(link, article.url, article.declared_canonical)
        loop = asyncio.get_running_loop()
        with self._times.measure("settle"):
            outcome, filing = await loop.run_in_executor(
                self._settler, self._settle, source, language, job, identity, analysed
            )
        if filing is not None and self._filer.write_files:
            return await self._write(job, filing) or outcome
        return outcome

    async def _analyse(
        self, source: str, language: str | None, job: Job, fetch_page: bool
    ) -> Analysed | EntryOutcome:
        """The page (or the feed's full text) analysed in a worker, or why not."""
        content_type: str | None
        if not fetch_page and full_text(job.feed_content):
            body, content_type, url = feed_page(job.title, job.feed_content), _FEED_PAGE, job.link
        else:
            fetched = await self._fetch_page(source, job)
            if isinstance(fetched, EntryOutcome):
                return fetched
            body, content_type, url = fetched.body, fetched.content_type, fetched.final_url
        try:
            with self._times.measure("analysis"):
                result = await self._workers.run(
                    analyse,
                    body,
                    content_type,
                    url,
                    job.feed_content,
                    job.title,
                    language,
                    self._classifier,
                    self._settings.near,
                    source,
                )
        except WorkerCrashed as exc:
            return self._failed(source, job, "extract_error", f"worker died: {exc}", True)
        if isinstance(result, ExtractFailed):
            return self._failed(source, job, result.kind, result.reason, result.kind == "blocked")
        return result

    async def _fetch_page(self, source: str, job: Job) -> Response | EntryOutcome:
        """The article's page, or the outcome of its failure (robots.txt included)."""
        with self._times.measure("pages"):
            return await self._fetch_allowed_page(source, job)

    async def _fetch_allowed_page(self, source: str, job: Job) -> Response | EntryOutcome:
        refusal = await self._robots.refusal(self._fetcher, job.link) if self._robots else None
        if refusal is not None:
            return self._failed(source, job, refusal.kind, refusal.reason, refusal.retry)
        try:
            page = await self._fetcher.get(job.link, accept=_PAGE_ACCEPT)
            assert isinstance(page, Response)  # no validators were sent
            _check_page_type(page)
        except FetchError as exc:
            return self._failed(source, job, exc.kind, exc.detail or str(exc), exc.transient)
        return page

    def _settle(
        self,
        source: str,
        language: str | None,
        job: Job,
        identity: ArticleIdentity,
        analysed: Analysed,
    ) -> tuple[EntryOutcome, Filing | None]:
        """Dedup, store and name the file of one analysed article, on the settling thread,
        in one transaction (under the settle lock when processes share the database).
        A corpus number another writer took meanwhile: the step again, with the next."""
        keys = identity.lock_keys(analysed.fingerprint)
        for attempt in range(_SETTLE_ATTEMPTS):
            lock = self._settle_lock(keys) if self._settle_lock else nullcontext()
            try:
                with lock as held, self._store.one_transaction(held):
                    return self._settle_once(source, language, job, identity, analysed)
            except FileNumberTaken:
                if attempt == _SETTLE_ATTEMPTS - 1:
                    raise
                self._filer.number_taken()
        raise AssertionError("unreachable")

    def _settle_once(
        self,
        source: str,
        language: str | None,
        job: Job,
        identity: ArticleIdentity,
        analysed: Analysed,
    ) -> tuple[EntryOutcome, Filing | None]:
        now = self._clock()
        known = look(self._store, job, identity, analysed)
        intent = decide(
            job,
            identity,
            analysed,
            known,
            source=source,
            language=language,
            file_all=self._settings.file_all,
            now=now,
        )
        return self._carry_out(job, intent, now, analysed.passage)

    def _carry_out(
        self, job: Job, intent: Intent, now: datetime, passage: Passage
    ) -> tuple[EntryOutcome, Filing | None]:
        """The store's writes for the intent, each one transaction."""
        if isinstance(intent, Archived):
            self._store.mark_entry_done(job.entry_id, outcome="too_old", now=now)
            return EntryOutcome("too_old"), None
        if isinstance(intent, Duplicate):
            self._store.record_duplicate(
                job.entry_id, intent.original, intent.aliases, intent.final_url, now
            )
            return EntryOutcome("duplicate"), None
        return self._store_article(job, intent, now, passage)

    def _store_article(
        self, job: Job, intent: NewArticle, now: datetime, passage: Passage
    ) -> tuple[EntryOutcome, Filing | None]:
        stored = self._store.store_item(
            intent.item,
            job.entry_id,
            outcome="filed" if intent.filed else "recorded",
            now=now,
            file_number=self._filer.next_number() if intent.filed else None,
        )
        if stored is None:  # another writer stored this article a moment ago
            return EntryOutcome("duplicate"), None
        item_id, name = stored
        if self._same_rule:
            self._store.remember_passage(item_id, intent.item.text_hash, passage)
        if intent.supersedes is not None:
            self._store.supersede(intent.supersedes, item_id)
            log.info("excerpt_superseded", extra={"excerpt": intent.supersedes, "article": item_id})
        relevant = intent.item.relevant
        outcome = EntryOutcome("filed" if intent.filed else "recorded", relevant=relevant)
        return outcome, Filing(item_id, intent.item, name) if name is not None else None

    async def _write(self, job: Job, filing: Filing) -> EntryOutcome | None:
        """The item is committed; its file is written off the event loop (fsync). None
        when written; else the failure (nothing is lost: the item keeps its file name,
        and the next start writes every file a stored item names but the folder lacks)."""
        try:
            with self._times.measure("files"):
                await asyncio.to_thread(self._filer.write, filing)
        except OSError as exc:
            log.error("corpus_write_failed", extra={"file": filing.name, "error": str(exc)})
            detail = f"cannot write {filing.name}: {exc} (written at next start)"
            return EntryOutcome.failed(EntryFailure(job.link, "corpus", detail, False))
        return None

    def _failed(
        self, source: str, job: Job, kind: str, detail: str, transient: bool
    ) -> EntryOutcome:
        gave_up = self._store.mark_entry_failed(
            job.entry_id, kind, detail, transient=transient, now=self._clock()
        )
        # One line per entry only with -v: the pass says them grouped (_log_failures).
        log.debug(
            "entry_failed",
            extra={"source": source, "url": job.link, "kind": kind, "error": detail},
        )
        return EntryOutcome.failed(EntryFailure(job.link, kind, detail, not gave_up, job.entry_id))

    def _known_item(self, canonical: str) -> int | None:
        digest = url_hash(canonical)
        return self._store.items_by_url([digest]).get(digest)


def _check_page_type(page: Response) -> None:
    content_type = (page.content_type or "text/html").lower()
    if not any(kind in content_type for kind in _PAGE_TYPES):
        raise FetchError(page.url, "extract_error", f"not an HTML page ({content_type})")


def _log_failures(source: str, report: SourceReport) -> None:
    """The pass's entry failures, one warning per kind and host with a count and an
    example: an archive refused page by page is one line, not hundreds."""
    for group in report.failure_groups():
        log.warning(
            "entries_failed",
            extra={
                "source": source,
                "kind": group.kind,
                "host": group.host,
                "count": group.count,
                "example": group.example.link,
                "error": group.example.detail,
                "will_retry": group.example.will_retry,
            },
        )
