"""Plain values that cross the storage boundary, and the row converters.

ORM rows never leave the store package: callers get these frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlmodel import SQLModel

from watcher.dedup.urls import URL_RULES_VERSION, url_hash
from watcher.errors import FetchError
from watcher.store.models import Item, Source

MAX_ATTEMPTS = 10  # transient failures, ~5 days of backoff, before an entry is given up
BOILERPLATE_ITEMS = 3  # a paragraph found in this many items is furniture, not content
NEAR_CANDIDATES = 12  # the most likely stored texts compared with a new one


ITEMS_TABLE = SQLModel.metadata.tables["items"]
ENTRIES_TABLE = SQLModel.metadata.tables["entries"]


@dataclass(frozen=True, slots=True)
class SourceState:
    id: int
    name: str
    feed_url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_success_at: datetime | None
    last_polled_at: datetime | None = None
    next_poll_at: datetime | None = None
    interval_seconds: int | None = None
    consecutive_failures: int = 0
    last_error_kind: str | None = None
    last_error: str | None = None
    last_new_at: datetime | None = None
    polls_without_new: int = 0
    gap_suspected_at: datetime | None = None
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Validators:
    """What a feed's next conditional GET sends, and the body it last parsed."""

    etag: str | None
    last_modified: str | None
    body_hash: str


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One poll of a source, as the store records it."""

    next_poll_at: datetime
    interval_seconds: int
    new_entries: int = 0
    error: FetchError | None = None  # None: the poll succeeded
    validators: Validators | None = None  # set when the feed was read and parsed
    gap: bool = False  # every entry was new: entries may have dropped off the feed unseen


@dataclass(frozen=True, slots=True)
class EntryStatus:
    id: int
    known: bool  # done, or failed for good
    due: bool  # not known, and its next try has come


@dataclass(frozen=True, slots=True)
class Waiting:
    """One source's entries waiting for a first or next try."""

    count: int
    tried: int  # of them, tried and failed at least once
    kinds: tuple[str, ...]  # the failures' kinds, most frequent first
    next_try: datetime | None  # the soonest retry planned (None: due now)

    def __str__(self) -> str:
        kinds = f" ({', '.join(self.kinds)})" if self.kinds else ""
        return f"{self.count} waiting for a try{kinds}"


@dataclass(frozen=True, slots=True)
class VerdictUpdate:
    """The classifier's new verdict on a stored article (never the user's mark)."""

    item_id: int
    relevant: bool
    score: float
    labels: tuple[str, ...]
    evidence: tuple[str, ...]
    tie_scores: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class ItemSummary:
    id: int
    url: str | None
    title: str | None
    text: str
    key: str
    source: str | None
    relevant: bool
    score: float
    labels: tuple[str, ...]  # the classifier's
    evidence: tuple[str, ...]
    user_mark: str | None
    file: str | None
    file_missing: bool
    user_labels: tuple[str, ...] | None = None  # given with the mark; None: not given

    @property
    def ties(self) -> tuple[str, ...]:
        """The ties shown: the user's where given, else the classifier's."""
        return self.user_labels if self.user_labels is not None else self.labels

    @property
    def counts_as_relevant(self) -> bool:
        """The user's verdict where given, else the classifier's."""
        return self.user_mark == "relevant" if self.user_mark else self.relevant


@dataclass(frozen=True, slots=True)
class EntryIndex:
    by_key: dict[str, EntryStatus]
    by_url: dict[str, EntryStatus]

    def lookup(self, key: str, url_hash: str) -> EntryStatus | None:
        """By entry key, else by link: a guid that rotates keeps its link."""
        return self.by_key.get(key) or self.by_url.get(url_hash)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A feed entry seen for the first time. ``outcome`` set: it is done already
    (``duplicate`` of ``item_id`` known by its link, or ``too_old`` on a first poll)."""

    key: str
    guid: str | None
    link: str
    url_hash: str
    title: str | None
    published: datetime | None
    feed_content: str | None
    first_seen: datetime
    outcome: str | None = None
    item_id: int | None = None


@dataclass(frozen=True, slots=True)
class PendingEntry:
    id: int
    link: str
    title: str | None
    published: datetime | None
    feed_content: str | None


@dataclass(frozen=True, slots=True)
class NewItem:
    key: str
    url: str
    aliases: tuple[str, ...]  # canonical URLs, the item's own first
    title: str | None
    text: str
    text_hash: str
    paragraph_hashes: tuple[str, ...]
    authors: tuple[str, ...]
    published: datetime | None
    fetched: datetime
    language: str | None
    source_name: str
    relevant: bool
    score: float
    labels: tuple[str, ...]
    evidence: tuple[str, ...]
    final_url: str | None = None  # where the page was served from, for the entry
    bands: tuple[int, ...] = ()  # near-duplicate index keys (watcher.dedup.neardup)
    tie_scores: tuple[tuple[str, float], ...] = ()  # every tie's score, strongest first


def _utc(moment: datetime | None) -> datetime | None:
    """Core rows from SQLite come back naive; they were stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try of a page: the first retry on the next pass, then
    doubling from 15 minutes up to a day."""
    if attempts <= 1:
        return timedelta(0)
    return min(timedelta(minutes=15 * 2 ** (attempts - 2)), timedelta(days=1))


def item_summary(row: Item) -> ItemSummary:
    assert row.id is not None
    return ItemSummary(
        id=row.id,
        url=row.url,
        title=row.title,
        text=row.text,
        key=row.key,
        source=row.source_name,
        relevant=row.relevant,
        score=row.score,
        labels=tuple(row.labels),
        evidence=tuple(row.evidence),
        user_mark=row.user_mark,
        file=row.file,
        file_missing=row.file_missing,
        user_labels=tuple(row.user_labels) if row.user_labels is not None else None,
    )


def item_values(item: NewItem) -> dict[str, Any]:
    """The column values of a new item: a plain dict, because validating a model per
    article costs more than the insert."""
    return dict(
        key=item.key,
        url=item.url,
        title=item.title,
        text=item.text,
        text_hash=item.text_hash,
        n_paragraphs=len(item.paragraph_hashes),
        authors=list(item.authors),
        published=item.published,
        fetched=item.fetched,
        language=item.language,
        source_name=item.source_name,
        relevant=item.relevant,
        score=item.score,
        labels=list(item.labels),
        evidence=list(item.evidence),
        tie_scores=dict(item.tie_scores),
        is_seed=False,
        user_mark=None,
        file=None,
        file_number=None,
        filed_at=None,
        file_missing=False,
    )


def alias_rows(item_id: int, urls: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {
            "url_hash": url_hash(url),
            "url": url,
            "item_id": item_id,
            "rules_version": URL_RULES_VERSION,
        }
        for url in dict.fromkeys(urls)
    ]


def entry_row(source_id: int, entry: NewEntry) -> dict[str, Any]:
    """Every row the same keys: new entries go in as one executemany."""
    return {
        "source_id": source_id,
        "entry_key": entry.key,
        "guid": entry.guid,
        "link": entry.link,
        "url_hash": entry.url_hash,
        "title": entry.title,
        "published": entry.published,
        "first_seen": entry.first_seen,
        "feed_content": entry.feed_content,
        "state": "done" if entry.outcome else "pending",
        "outcome": entry.outcome,
        "item_id": entry.item_id,
        "duplicate": entry.outcome == "duplicate",
    }


def done_values(
    outcome: str, now: datetime, item_id: int | None, duplicate: bool, final_url: str | None
) -> dict[str, Any]:
    """The columns of a settled entry (``ENTRY_DONE``'s parameters, but for its id)."""
    return {
        "state": "done",
        "outcome": outcome,
        "item_id": item_id,
        "duplicate": duplicate,
        "final_url": final_url,
        "fetched_at": now if final_url else None,
        "error_kind": None,
        "error": None,
        "next_try": None,
    }


def entry_status_of(
    entry_id: int, state: str, permanent: bool, next_try: datetime | None, now: datetime
) -> EntryStatus:
    known = state == "done" or permanent
    if next_try is not None and next_try.tzinfo is None:
        next_try = next_try.replace(tzinfo=UTC)  # Core rows from SQLite come back naive
    return EntryStatus(entry_id, known, not known and (next_try is None or next_try <= now))


def source_state(row: Source) -> SourceState:
    assert row.id is not None
    return SourceState(
        id=row.id,
        name=row.name,
        feed_url=row.feed_url,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        last_success_at=row.last_success_at,
        last_polled_at=row.last_polled_at,
        next_poll_at=row.next_poll_at,
        interval_seconds=row.interval_seconds,
        consecutive_failures=row.consecutive_failures,
        last_error_kind=row.last_error_kind,
        last_error=row.last_error,
        last_new_at=row.last_new_at,
        polls_without_new=row.polls_without_new,
        gap_suspected_at=row.gap_suspected_at,
        failing_since=row.failing_since,
    )


class ManifestColumns(Protocol):
    """What a manifest line is made of: an ``Item``, or a row of those columns alone."""

    @property
    def file(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def source_name(self) -> str | None: ...
    @property
    def authors(self) -> list[str]: ...
    @property
    def published(self) -> datetime | None: ...
    @property
    def fetched(self) -> datetime | None: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def user_labels(self) -> list[str] | None: ...
    @property
    def score(self) -> float: ...
    @property
    def relevant(self) -> bool: ...
    @property
    def user_mark(self) -> str | None: ...
    @property
    def copy_of(self) -> int | None: ...


def manifest_row(
    item: ManifestColumns, duplicates: list[str], copy_of: str | None = None
) -> dict[str, Any]:
    """One line of manifest.jsonl; ``copy_of``: the file of the article this file is an
    excerpt of (its full text came after it was filed), else absent."""
    row = {
        "file": item.file,
        "url": item.url,
        "title": item.title,
        "source": item.source_name,
        "authors": item.authors,
        "published": item.published.isoformat() if item.published else None,
        "fetched": item.fetched.isoformat() if item.fetched else None,
        "labels": item.user_labels if item.user_labels is not None else item.labels,
        "score": item.score,
        "relevant": item.relevant,
        "user_mark": item.user_mark,
        "duplicates": list(dict.fromkeys(duplicates)),
    }
    if item.copy_of is not None:
        row["copy_of"] = copy_of
    return row
