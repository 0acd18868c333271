"""One feed polled: its new entries recorded, its next poll planned, their jobs made.

    fetch feed (conditional GET)    -> Response | NotModified | FetchError
    body hash unchanged?            -> nothing to parse
    parse entries                   -> ParsedFeed (no feed at all: not_a_feed)
    admit: drop entries known       (store: by entry key, or by link; a link known as
                                    another source's article is its duplicate, unfetched)
    record the new ones as pending  (durable before the feed's validators are)
    possible gap? backfill          (from the source's sitemap)
    record the poll, plan the next  (one write)

The feed's validators (ETag, Last-Modified, body hash) are stored only after its new
entries are: a process killed mid-poll finds them pending on restart, never lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.config import SourceConfig
from watcher.dedup.urls import canonical_url, url_hash
from watcher.errors import FetchError
from watcher.fetch.http import Fetcher, NotModified, Response
from watcher.pipeline.job import Job
from watcher.pipeline.settings import PassSettings
from watcher.report import SourceReport, StageTimes
from watcher.sources.feeds import FeedEntry, ParsedFeed
from watcher.sources.listing import matching
from watcher.sources.planning import PollOutcome, plan
from watcher.sources.reading import ACCEPT, SourceReader
from watcher.store import NewEntry, PollRecord, SourceState, Store, Validators

__all__ = ["FeedPoller"]

log = logging.getLogger(__name__)

_BACKFILL_SLACK = timedelta(days=1)
_GAP_MIN_ENTRIES = 3


@dataclass(slots=True)
class _FeedRead:
    jobs: list[Job] = field(default_factory=list)
    hint: timedelta | None = None  # the server's <ttl>, max-age or Expires
    validators: Validators | None = None  # set when the feed was parsed
    gap: bool = False


class FeedPoller:
    def __init__(
        self,
        settings: PassSettings,
        store: Store,
        fetcher: Fetcher,
        reader: SourceReader,
        clock: Callable[[], datetime],
        times: StageTimes | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._fetcher = fetcher
        self._reader = reader
        self._clock = clock
        self._times = times or StageTimes()

    async def poll(
        self, source: SourceConfig, state: SourceState
    ) -> tuple[SourceReport, list[Job]]:
        """Poll one feed: its new entries recorded as pending, the poll recorded and the
        next one planned; the entries' jobs, not yet run. Never raises."""
        report = SourceReport(source.name, source.feed_url, source_id=state.id)
        read = _FeedRead()
        error: FetchError | None = None
        try:
            with self._times.measure("feeds"):
                read = await self._read(source, state, report)
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

    def admit(
        self,
        state: SourceState,
        entries: list[FeedEntry],
        report: SourceReport,
        *,
        first_poll: bool,
        max_age_days: int,
        undated_old: bool = False,
    ) -> list[Job]:
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
        fresh: dict[str, tuple[FeedEntry, NewEntry]] = {}
        for entry, link_hash in new:
            outcome, item_id = None, known.get(link_hash)
            if item_id is not None:
                outcome = "duplicate"
                report.duplicates += 1
            elif first_poll and (
                _too_old(entry, max_age_days, now) or (undated_old and entry.published is None)
            ):
                outcome = "too_old"  # recorded, not fetched
            row = _new_entry(entry, link_hash, now, outcome, item_id)
            fresh.setdefault(entry.key, (entry, row))
        report.new += len(fresh)
        ids = self._store.add_entries(state.id, [row for _entry, row in fresh.values()])
        cutoff = now - timedelta(days=max_age_days) if first_poll and max_age_days else None
        return [
            Job.admitted(ids[key], entry, not_before=cutoff)
            for key, (entry, row) in fresh.items()
            if row.outcome is None and key in ids
        ]

    async def _read(
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
            return _FeedRead(hint=fresh)
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == state.body_hash:
            # Some servers send no validators; an identical body needs no parsing.
            return _FeedRead(hint=fresh)
        parsed = await self._reader.parse(source, result, state.last_success_at)
        if parsed.ttl_minutes:
            fresh = max(fresh or timedelta(0), timedelta(minutes=parsed.ttl_minutes))
        report.seen = len(parsed.entries)
        report.warnings += _feed_warnings(parsed)
        first_poll = state.last_success_at is None
        entries = list(parsed.entries)
        jobs = self.admit(
            state,
            entries,
            report,
            first_poll=first_poll,
            max_age_days=source.max_age_days,
            # A sitemap lists a site's whole archive, mostly undated: on a first poll an
            # undated page is archive (recorded, not fetched), as a too-old entry is.
            undated_old=source.kind == "sitemap",
        )
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
    ) -> list[Job]:
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
        jobs = self.admit(state, recent, report, first_poll=False, max_age_days=source.max_age_days)
        report.warnings.append(f"backfilled {report.new - before} entries from {url}")
        log.info("sitemap_backfill", extra={"source": source.name, "new": report.new - before})
        return jobs

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
            bounds=self._settings.bounds,
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
