"""One pass over sources, stage by stage.

    for each source (concurrently; one failing source never stops the others):
    | fetch feed (conditional GET)           -> Response | NotModified | FetchError
    | body hash unchanged?                   -> nothing to parse
    | parse entries                          -> ParsedFeed (no feed at all: not_a_feed)
    | drop entries already known             (store: by entry key, or by link)
    | record the new ones as pending         (durable before the feed's validators are)
    | + earlier entries whose retry is due   (store)
    for each entry (concurrently, bounded by the fetcher):
    | known URL?                             -> duplicate, no download
    | robots.txt allows it? (cached per host) -> else failed: robots
    | fetch page                             -> Response | FetchError (retried later if transient)
    | analyse (worker process): extract, fingerprint, classify
                                             -> Analysed | ExtractFailed
    | dedup (URLs, text hash, near-dup rule) -> new | duplicate of the first-seen item
    | store item; corpus file if relevant    -> outcome, counted in a SourceReport

The feed's validators (ETag, Last-Modified, body hash) are stored only after its new
entries are: a process killed mid-pass finds them pending on restart, never lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.analyse import Analysed, analyse
from watcher.classify import Classifier
from watcher.config import Config, SourceConfig
from watcher.corpus import highest_number, render, write_exclusive, write_manifest
from watcher.dedup import (
    canonical_url,
    file_key,
    url_hash,
)
from watcher.errors import FetchError
from watcher.extract import ExtractFailed, feed_page, full_text
from watcher.feeds import FeedEntry, ParsedFeed
from watcher.http import Fetcher, NotModified, Response
from watcher.identity import ArticleIdentity
from watcher.listing import matching
from watcher.neardup import Fingerprint, NearDupRule
from watcher.reading import ACCEPT, SourceReader, check_parsed
from watcher.report import (
    EntryFailure,
    EntryOutcome,
    PassReport,
    SourceReport,
    seems_offline,
)
from watcher.robots import RobotsCache
from watcher.schedule import Bounds, PollOutcome, plan
from watcher.store import (
    NewEntry,
    NewItem,
    PendingEntry,
    PollRecord,
    SourceState,
    Store,
    Validators,
)
from watcher.workers import WorkerCrashed, WorkerPool

__all__ = [
    "FEED_ACCEPT",
    "MANUAL_SOURCE",
    "PassReport",
    "Pipeline",
    "SourceReport",
    "check_parsed",
]

log = logging.getLogger(__name__)

MANUAL_SOURCE = "urn:watcher:command-line"
FEED_ACCEPT = ACCEPT["feed"]
_BACKFILL_SLACK = timedelta(days=1)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_PAGE_TYPES = ("html", "xml", "text/plain", "application/pdf")
_FEED_PAGE = "text/html; charset=utf-8"
_GAP_MIN_ENTRIES = 3


@dataclass(frozen=True, slots=True)
class _Job:
    entry_id: int
    link: str
    title: str | None
    published: datetime | None
    authors: tuple[str, ...]
    feed_content: str | None
    link_checked: bool = False  # its link was looked up among known articles already
    # An undated entry of a first poll: a page dated before this is archive, not filed.
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Filing:
    """An article stored with a corpus file name, whose file is still to be written."""

    item_id: int
    item: NewItem
    name: str


@dataclass(frozen=True, slots=True)
class _FeedRead:
    jobs: list[_Job]
    hint: timedelta | None  # the server's <ttl>, max-age or Expires
    validators: Validators | None  # set when the feed was parsed
    gap: bool = False


Progress = Callable[[str, int], None]  # (source name, +pages queued or -1 when one is done)


class Pipeline:
    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        workers: WorkerPool,
        classifier: Classifier,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Progress | None = None,
        robots: RobotsCache | None = None,
        write_files: bool = True,
        settle_lock: Callable[[list[int]], AbstractContextManager[object]] | None = None,
    ) -> None:
        """``robots``: a cache of robots.txt rules to share with other passes (the
        daemon's); by default, one for this pass. ``write_files`` false: articles get
        their corpus file names in the database, and the process that owns the corpus
        folder writes them (``watcher.corpus.write_unwritten``): a queue worker's.
        ``settle_lock(keys)`` is held while an article is checked against the stored
        ones and stored, given the keys it can be found by (``Fingerprint.lock_keys``):
        within one process that step never interleaves (it has no awaits); processes
        that store into one database side by side pass a lock they share."""
        self._config = config
        self._store = store
        self._fetcher = fetcher
        self._workers = workers
        self._reader = SourceReader(fetcher, workers, config.http.max_bytes)
        self._shared_classifier = workers.share(classifier)
        self._near = NearDupRule.of(config.dedup)
        self._robots = (robots or RobotsCache()) if config.http.respect_robots else None
        self._clock = clock
        self._progress = progress or (lambda _name, _delta: None)
        self._corpus = Path(config.storage.corpus_dir)
        self._write_files = write_files
        self._settle_lock = settle_lock
        # The folder's highest number, kept current (the database's, for a worker).
        self._floor = highest_number(self._corpus) if write_files else 0
        self._filed: list[int] = []  # written this pass, marked in one statement at its end
        self._waiting: set[int] = set()  # sources with entries due for a try, at pass start
        self._floor_lock = threading.Lock()  # files are written on threads

    async def run(self, sources: Sequence[SourceConfig], urls: Sequence[str] = ()) -> PassReport:
        self._floor = max(highest_number(self._corpus), self._store.highest_file_number())
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
        self._store.mark_filed(self._filed, self._clock())
        self._filed.clear()
        write_manifest(self._corpus, self._store.manifest_rows())
        return PassReport(tuple(reports), offline)

    def _forgive(self, reports: Sequence[SourceReport], kind: str) -> None:
        """The machine seems offline: said once, and neither the sources nor their
        entries are backed off or brought nearer to being given up for it."""
        log.warning(
            "machine_offline",
            extra={"kind": kind, "sources": sum(r.failed for r in reports)},
        )
        now = self._clock()
        retry_at = now + Bounds.of(self._config.schedule).shortest
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

    async def poll_source(self, source: SourceConfig, state: SourceState) -> SourceReport:
        """Poll one feed and process its entries. Never raises: failures are reported."""
        report, jobs = await self.read_source(source, state)
        if state.id in self._waiting:
            now = self._clock()
            retries = self._store.due_retries(state.id, now, (job.entry_id for job in jobs))
            jobs += [_job_from_pending(pending) for pending in retries]
        await self._run_jobs(source.name, source.language, jobs, report, source.fetch_page)
        return report

    async def process_waiting(
        self, source: SourceConfig | None, pending: PendingEntry
    ) -> SourceReport:
        """One entry that waits for a try (a queue job's), as a pass would process it;
        ``source`` None: the command line's or a source since removed from the
        configuration. Never raises."""
        name = source.name if source else "(command line)"
        report = SourceReport(name, source.feed_url if source else MANUAL_SOURCE)
        fetch_page = source.fetch_page if source else True
        language = source.language if source else None
        jobs = [_job_from_pending(pending)]
        await self._run_jobs(name, language, jobs, report, fetch_page)
        return report

    async def read_source(
        self, source: SourceConfig, state: SourceState
    ) -> tuple[SourceReport, list[_Job]]:
        """Poll one feed: its new entries recorded as pending, the poll recorded and the
        next one planned; the entries' jobs, not yet run. Never raises."""
        report = SourceReport(source.name, source.feed_url, source_id=state.id)
        read = _FeedRead([], None, None)
        error: FetchError | None = None
        try:
            read = await self._read_feed(source, state, report)
        except FetchError as exc:
            error = exc
        except Exception as exc:
            # A bug or a library's surprise must not stop the other sources; the source
            # is recorded as failed (and so retried), with the cause in the log.
            log.exception("source_crashed", extra={"source": source.name})
            detail = f"unexpected {type(exc).__name__}: {exc}"
            error = FetchError(source.feed_url, "parse_error", detail)
        if error is not None:
            report.error, report.error_kind = str(error), error.kind
            log.warning("source_failed", extra={"source": report.name, "error": str(error)})
        self._record_poll(source, state, report, read, error)
        return report, read.jobs

    def _record_poll(
        self,
        source: SourceConfig,
        state: SourceState,
        report: SourceReport,
        read: _FeedRead,
        error: FetchError | None,
    ) -> None:
        """The poll's result and the source's next poll, in one write."""
        if error is not None:
            wait = timedelta(seconds=error.retry_after) if error.retry_after else None
            outcome = PollOutcome(failed=True, retry_after=wait)
        else:
            outcome = PollOutcome(failed=False, new_entries=report.new, server_hint=read.hint)
        now = self._clock()
        stored = state.interval_seconds
        planned = plan(
            source.feed_url,
            now,
            configured=timedelta(minutes=source.interval_minutes),
            stored=timedelta(seconds=stored) if stored else None,
            failures_before=state.consecutive_failures,
            outcome=outcome,
            bounds=Bounds.of(self._config.schedule),
        )
        record = PollRecord(
            next_poll_at=planned.next_poll_at,
            interval_seconds=int(planned.interval.total_seconds()),
            new_entries=report.new,
            error=error,
            validators=read.validators,
            gap=read.gap,
        )
        self._store.record_poll(state.id, record, now)

    async def fetch_urls(self, urls: Sequence[str]) -> SourceReport:
        """Single article URLs given on the command line, as one pseudo-source."""
        state = self._store.sync_manual_source(MANUAL_SOURCE, "(command line)")
        report = SourceReport("(command line)", MANUAL_SOURCE)
        entries = [FeedEntry(canonical_url(url), None, url, None, None, (), None) for url in urls]
        jobs = self._admit(state, entries, report, first_poll=False, max_age_days=0)
        await self._run_jobs(report.name, None, jobs, report)
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

    # -- the feed ------------------------------------------------------------------

    async def _read_feed(
        self, source: SourceConfig, state: SourceState, report: SourceReport
    ) -> _FeedRead:
        """The new entries, stored as pending; their jobs; what the server asks."""
        result = await self._fetcher.get(
            source.feed_url,
            etag=state.etag,
            last_modified=state.last_modified,
            accept=ACCEPT[source.kind],
        )
        fresh = timedelta(seconds=result.fresh_for) if result.fresh_for else None
        if isinstance(result, NotModified):
            return _FeedRead([], fresh, None)
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == state.body_hash:
            # Some servers send no validators; an identical body needs no parsing.
            return _FeedRead([], fresh, None)
        parsed = await self._reader.parse(source, result, state.last_success_at)
        if parsed.ttl_minutes:
            fresh = max(fresh or timedelta(0), timedelta(minutes=parsed.ttl_minutes))
        report.seen = len(parsed.entries)
        report.warnings += _feed_warnings(parsed)
        first_poll = state.last_success_at is None
        # A sitemap lists a site's whole archive, mostly undated: on a first poll an
        # undated page is archive (recorded, not fetched), as a too-old entry is.
        undated_old = source.kind == "sitemap"
        entries = list(parsed.entries)
        jobs = self._admit(state, entries, report, first_poll, source.max_age_days, undated_old)
        gap = source.kind == "feed" and _possible_gap(first_poll, len(entries), report.new)
        if gap:
            report.warnings.append(
                f"possible gap: all {report.new} entries are new since the last poll;"
                " older ones may have dropped off the feed unseen"
            )
            log.warning("possible_gap", extra={"source": source.name, "entries": report.new})
            if source.sitemap is not None and state.last_success_at is not None:
                jobs += await self._backfill(source, state, report)
        validators = Validators(result.etag, result.last_modified, body_hash)
        return _FeedRead(jobs, fresh, validators, gap)

    async def _backfill(
        self, source: SourceConfig, state: SourceState, report: SourceReport
    ) -> list[_Job]:
        """After a possible gap, the pages the feed's sitemap dates since the last good
        poll: what dropped off the feed is found there. A failure is a warning."""
        since = state.last_success_at
        assert since is not None
        url = str(source.sitemap)
        try:
            response = await self._fetcher.get(url, accept=ACCEPT["sitemap"])
            assert isinstance(response, Response)  # no validators were sent
            parsed = await self._reader.sitemap(response, since)
        except FetchError as exc:
            report.warnings.append(f"sitemap backfill failed: {exc}")
            return []
        recent = [
            entry
            for entry in matching(parsed.entries, source.url_pattern)
            if entry.published is not None and entry.published >= since - _BACKFILL_SLACK
        ]
        before = report.new
        jobs = self._admit(state, recent, report, False, source.max_age_days)
        report.warnings.append(f"backfilled {report.new - before} entries from {url}")
        log.info("sitemap_backfill", extra={"source": source.name, "new": report.new - before})
        return jobs

    def _admit(
        self,
        state: SourceState,
        entries: list[FeedEntry],
        report: SourceReport,
        first_poll: bool,
        max_age_days: int,
        undated_old: bool = False,
    ) -> list[_Job]:
        """Record the entries not seen before (in one statement); the jobs they make.

        Entries already stored are left alone: known ones are done, and pending ones
        come back through ``due_retries`` when their time comes."""
        now = self._clock()
        hashes = [url_hash(canonical_url(entry.link)) for entry in entries]
        index = self._store.entry_index(state.id, [e.key for e in entries], hashes, now)
        new = [
            (entry, link_hash)
            for entry, link_hash in zip(entries, hashes, strict=True)
            if index.lookup(entry.key, link_hash) is None
        ]
        # A link already known as an article (another source's copy): recorded as a
        # duplicate of it now, without downloading the page.
        known = self._store.items_by_url([link_hash for _entry, link_hash in new])
        fresh: dict[str, NewEntry] = {}
        for entry, link_hash in new:
            outcome, item_id = None, known.get(link_hash)
            if item_id is not None:
                outcome = "duplicate"
                report.duplicates += 1
            elif first_poll and (
                _too_old(entry, max_age_days, now) or (undated_old and entry.published is None)
            ):
                outcome = "too_old"  # recorded, not fetched
            fresh.setdefault(entry.key, _new_entry(entry, link_hash, now, outcome, item_id))
        report.new += len(fresh)
        ids = self._store.add_entries(state.id, list(fresh.values()))
        by_key = {entry.key: entry for entry, _hash in new}
        cutoff = now - timedelta(days=max_age_days) if first_poll and max_age_days else None
        return [
            _Job(
                ids[key],
                by_key[key].link,
                by_key[key].title,
                by_key[key].published,
                by_key[key].authors,
                by_key[key].content,
                link_checked=True,
                not_before=cutoff if by_key[key].published is None else None,
            )
            for key, stored in fresh.items()
            if stored.outcome is None and key in ids
        ]

    # -- the entries ---------------------------------------------------------------

    async def _run_jobs(
        self,
        name: str,
        language: str | None,
        jobs: list[_Job],
        report: SourceReport,
        fetch_page: bool = True,
    ) -> None:
        if not jobs:
            return
        self._progress(name, len(jobs))
        outcomes = await asyncio.gather(
            *(self._process(name, language, job, fetch_page) for job in jobs)
        )
        for outcome in outcomes:
            report.count(outcome)
        _log_failures(name, report)

    async def _process(
        self, source: str, language: str | None, job: _Job, fetch_page: bool
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
        self, source: str, language: str | None, job: _Job, fetch_page: bool
    ) -> EntryOutcome:
        link = canonical_url(job.link)
        known = None if job.link_checked else self._known_item(link)
        if known is not None:
            self._store.mark_entry_done(
                job.entry_id, outcome="duplicate", item_id=known, duplicate=True, now=self._clock()
            )
            return EntryOutcome("duplicate")
        content_type: str | None
        if not fetch_page and full_text(job.feed_content):
            body, content_type, url = feed_page(job.title, job.feed_content), _FEED_PAGE, job.link
        else:
            fetched = await self._fetch_page(source, job)
            if isinstance(fetched, EntryOutcome):
                return fetched
            body, content_type, url = fetched.body, fetched.content_type, fetched.final_url
        try:
            result = await self._workers.run(
                analyse,
                body,
                content_type,
                url,
                job.feed_content,
                job.title,
                language,
                self._shared_classifier,
                self._near,
                source,
            )
        except WorkerCrashed as exc:
            return self._failed(source, job, "extract_error", f"worker died: {exc}", True)
        if isinstance(result, ExtractFailed):
            return self._failed(source, job, result.kind, result.reason, result.kind == "blocked")
        article = result.article
        identity = ArticleIdentity.of(link, article.url, article.declared_canonical)
        keys = identity.lock_keys(result.fingerprint)
        locked = self._settle_lock(keys) if self._settle_lock else nullcontext()
        with locked:
            outcome, filing = self._settle(source, language, job, identity, result)
        if filing is not None and self._write_files:
            # The item is committed; the file is written off the event loop (fsync).
            try:
                await asyncio.to_thread(self._file, filing)
            except OSError as exc:
                # Nothing is lost: the item keeps its file name, and the next start
                # writes every file that a stored item names but the folder lacks.
                log.error("corpus_write_failed", extra={"file": filing.name, "error": str(exc)})
                detail = f"cannot write {filing.name}: {exc} (written at next start)"
                return EntryOutcome.failed(EntryFailure(job.link, "corpus", detail, False))
        return outcome

    async def _fetch_page(self, source: str, job: _Job) -> Response | EntryOutcome:
        """The article's page, or the outcome of its failure (robots.txt included)."""
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

    def _failed(
        self, source: str, job: _Job, kind: str, detail: str, transient: bool
    ) -> EntryOutcome:
        now = self._clock()
        gave_up = self._store.mark_entry_failed(
            job.entry_id, kind, detail, transient=transient, now=now
        )
        # One line per entry only with -v: the pass says them grouped (_log_failures).
        log.debug(
            "entry_failed",
            extra={"source": source, "url": job.link, "kind": kind, "error": detail},
        )
        return EntryOutcome.failed(EntryFailure(job.link, kind, detail, not gave_up, job.entry_id))

    def _settle(
        self,
        source: str,
        language: str | None,
        job: _Job,
        identity: ArticleIdentity,
        analysed: Analysed,
    ) -> tuple[EntryOutcome, Filing | None]:
        """Dedup, store and file one analysed article. No awaits inside: the check and
        the insert cannot interleave with another entry's."""
        now = self._clock()
        article, verdict = analysed.article, analysed.verdict
        if job.not_before and article.published and article.published < job.not_before:
            # The feed gave no date; the page's says this is the archive.
            self._store.mark_entry_done(job.entry_id, outcome="too_old", now=now)
            return EntryOutcome("too_old"), None
        fingerprint = analysed.fingerprint
        original, excerpt = None, None
        if identity.declares_another:
            original, believed = self._check_declared(identity, fingerprint)
            if not believed:
                identity = identity.without_declared()
        if original is None:
            # The link was looked up when the entry was admitted: only a redirect's final
            # URL can be news here.
            link = identity.link
            urls = [u for u in (identity.final, link) if not (job.link_checked and u == link)]
            hashes = list(dict.fromkeys(identity.hashes[u] for u in urls))
            match = self._store.find_match(hashes, fingerprint, analysed.passage)
            if match is not None and match.fuller:
                excerpt = match.item_id  # stored first; this text is the article
            elif match is not None:
                original = match.item_id
        if original is not None:
            aliases = identity.aliases
            self._store.record_duplicate(job.entry_id, original, aliases, article.url, now)
            return EntryOutcome("duplicate"), None
        aliases = identity.aliases
        item = NewItem(
            key=file_key(aliases[0]),
            url=aliases[0],
            aliases=aliases,
            title=article.title,
            text=article.text,
            text_hash=fingerprint.text_hash,
            paragraph_hashes=fingerprint.paragraphs,
            bands=fingerprint.bands,
            authors=article.authors or job.authors,
            published=job.published or article.published,
            fetched=now,
            language=article.language or language,
            source_name=source,
            relevant=verdict.relevant,
            score=verdict.score,
            labels=verdict.labels,
            evidence=verdict.evidence,
            tie_scores=verdict.ties,
            final_url=article.url,
        )
        filed = verdict.relevant or self._config.storage.file_all
        stored = self._store.store_item(
            item,
            job.entry_id,
            outcome="filed" if filed else "recorded",
            now=now,
            file_number=self._next_number() if filed else None,
        )
        if stored is None:  # another writer stored this article a moment ago
            return EntryOutcome("duplicate"), None
        item_id, name = stored
        if excerpt is not None:
            self._store.supersede(excerpt, item_id)
            log.info("excerpt_superseded", extra={"excerpt": excerpt, "article": item_id})
        outcome = EntryOutcome("filed" if filed else "recorded", relevant=verdict.relevant)
        return outcome, Filing(item_id, item, name) if name is not None else None

    def _known_item(self, canonical: str) -> int | None:
        digest = url_hash(canonical)
        return self._store.items_by_url([digest]).get(digest)

    def _check_declared(
        self, identity: ArticleIdentity, fingerprint: Fingerprint
    ) -> tuple[int | None, bool]:
        """The item the declared canonical leads to, if this text is its article; and
        whether the canonical is believed (not when another text holds it already)."""
        assert identity.declared is not None
        digest = identity.hashes[identity.declared]
        candidate = self._store.items_by_url([digest]).get(digest)
        if candidate is None:
            return None, True
        if self._store.is_copy_of(candidate, fingerprint):
            return candidate, True
        reason = "shared by other texts"
        log.info("canonical_ignored", extra={"url": identity.declared, "reason": reason})
        return None, False

    def _next_number(self) -> int:
        """The number to try for the next file; the store moves past a taken one.

        The folder is scanned once per pass: a file the user adds during a pass is
        counted from the next one (exclusive creation keeps the two from colliding).
        A process that writes no files (a queue worker) asks the database instead, where
        other workers' numbers are."""
        if not self._write_files:
            self._raise_floor(self._store.highest_file_number())
        with self._floor_lock:
            self._floor += 1
            return self._floor

    def _raise_floor(self, number: int) -> None:
        with self._floor_lock:
            self._floor = max(self._floor, number)

    def _file(self, filing: Filing) -> None:
        """Write the file the store named; if the name is taken (a file the user put there
        meanwhile), take the next number."""
        item_id, item, name = filing.item_id, filing.item, filing.name
        content = render(item.title, item.text)
        for _attempt in range(100):
            try:
                write_exclusive(self._corpus, name, content)
            except FileExistsError:
                self._raise_floor(highest_number(self._corpus))
                number, name = self._store.allocate_file(item_id, item.key, floor=self._floor)
                self._raise_floor(number)
                continue
            self._raise_floor(int(name.split("_", 1)[0]))
            self._filed.append(item_id)
            log.info("entry_filed", extra={"url": item.url, "file": name})
            return
        raise RuntimeError(f"could not find a free corpus file name for {item.url}")


def _possible_gap(first_poll: bool, entries: int, new: int) -> bool:
    """Every entry new on a feed polled before: the feed moved on further than it
    holds since the last poll (downtime, a slow schedule), and entries in between may
    have been missed. A feed of one or two entries says too little to tell."""
    return not first_poll and entries >= _GAP_MIN_ENTRIES and new == entries


def _feed_warnings(parsed: ParsedFeed) -> list[str]:
    warnings = list(parsed.skipped)
    if parsed.ill_formed and parsed.entries:
        warnings.append(f"ill-formed feed, used anyway: {parsed.problem}")
    return warnings


def _check_page_type(page: Response) -> None:
    content_type = (page.content_type or "text/html").lower()
    if not any(kind in content_type for kind in _PAGE_TYPES):
        raise FetchError(page.url, "extract_error", f"not an HTML page ({content_type})")


def _too_old(entry: FeedEntry, max_age_days: int, now: datetime) -> bool:
    if max_age_days == 0 or entry.published is None:
        return False
    return entry.published < now - timedelta(days=max_age_days)


def _new_entry(
    entry: FeedEntry, link_hash: str, now: datetime, outcome: str | None, item_id: int | None
) -> NewEntry:
    return NewEntry(
        key=entry.key,
        guid=entry.guid,
        link=entry.link,
        url_hash=link_hash,
        title=entry.title,
        published=entry.published,
        feed_content=entry.content,
        first_seen=now,
        outcome=outcome,
        item_id=item_id,
    )


def _job_from_pending(pending: PendingEntry) -> _Job:
    return _Job(
        pending.id, pending.link, pending.title, pending.published, (), pending.feed_content
    )


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
