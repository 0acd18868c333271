"""Storage: every read and write of the database, behind plain values.

ORM rows never leave this module. "Never twice" is the database's job: entries are
unique per (source, key), URL aliases per URL hash, corpus files per name and number;
inserts that lose a race become no-ops, not errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from watcher.config import SourceConfig
from watcher.dedup import URL_RULES_VERSION, canonical_url, text_hash, url_hash
from watcher.errors import FetchError
from watcher.models import Entry, Item, Paragraph, Source, UrlAlias

__all__ = [
    "EntryStatus",
    "NewItem",
    "PendingEntry",
    "SourceState",
    "Store",
    "retry_delay",
]

MAX_ATTEMPTS = 10  # transient failures, ~5 days of backoff, before an entry is given up
_BOILERPLATE_ITEMS = 3  # a paragraph found in this many items is furniture, not content
_MATCH_SHARE = 0.6  # share of the shorter article's paragraphs two copies must share


@dataclass(frozen=True, slots=True)
class SourceState:
    id: int
    name: str
    feed_url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class EntryStatus:
    id: int
    known: bool  # done, or failed for good
    due: bool  # not known, and its next try has come


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


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try of a page: the first retry on the next pass, then
    doubling from 15 minutes up to a day."""
    if attempts <= 1:
        return timedelta(0)
    return min(timedelta(minutes=15 * 2 ** (attempts - 2)), timedelta(days=1))


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # -- sources -------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[SourceConfig]) -> dict[str, SourceState]:
        """Rows for the configured sources, keyed by feed URL (a rename keeps history)."""
        with self._session() as session:
            for source in sources:
                self._insert_ignore(
                    session, Source, {"feed_url": source.feed_url, "name": source.name}
                )
                session.execute(
                    update(Source)
                    .where(col(Source.feed_url) == source.feed_url)
                    .values(name=source.name)
                )
            session.commit()
            rows = session.exec(
                select(Source).where(col(Source.feed_url).in_([s.feed_url for s in sources]))
            ).all()
            return {row.feed_url: _source_state(row) for row in rows}

    def sync_manual_source(self, feed_url: str, name: str) -> SourceState:
        """The pseudo-source that owns URLs given on the command line."""
        with self._session() as session:
            self._insert_ignore(session, Source, {"feed_url": feed_url, "name": name})
            session.commit()
            row = session.exec(select(Source).where(Source.feed_url == feed_url)).one()
            return _source_state(row)

    def source(self, feed_url: str) -> SourceState | None:
        with self._session() as session:
            row = session.exec(select(Source).where(Source.feed_url == feed_url)).first()
            return _source_state(row) if row else None

    def record_poll_success(
        self,
        source_id: int,
        now: datetime,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "last_polled_at": now,
            "last_success_at": now,
            "last_error_kind": None,
            "last_error": None,
            "consecutive_failures": 0,
        }
        if body_hash is not None:
            values.update(etag=etag, last_modified=last_modified, body_hash=body_hash)
        self._update(Source, source_id, values)

    def record_poll_failure(self, source_id: int, error: FetchError, now: datetime) -> None:
        with self._session() as session:
            session.execute(
                update(Source)
                .where(col(Source.id) == source_id)
                .values(
                    last_polled_at=now,
                    last_error_kind=error.kind,
                    last_error=str(error),
                    consecutive_failures=Source.consecutive_failures + 1,
                )
            )
            session.commit()

    def all_sources(self) -> list[Source]:
        with self._session() as session:
            return list(session.exec(select(Source).order_by(col(Source.name))).all())

    # -- entries -------------------------------------------------------------------

    def entry_status(
        self, source_id: int, key: str, url_hash: str, now: datetime
    ) -> EntryStatus | None:
        """The entry as first seen under this key, or under this link (guids that rotate)."""
        with self._session() as session:
            query = (
                select(Entry)
                .where(Entry.source_id == source_id)
                .where((col(Entry.entry_key) == key) | (col(Entry.url_hash) == url_hash))
                .order_by(col(Entry.id))
            )
            row = session.exec(query).first()
            if row is None or row.id is None:
                return None
            known = row.state == "done" or row.permanent
            due = not known and (row.next_try is None or row.next_try <= now)
            return EntryStatus(row.id, known, due)

    def add_entry(self, source_id: int, values: dict[str, Any]) -> int:
        """Insert a pending entry (or find the one a concurrent writer inserted)."""
        with self._session() as session:
            self._insert_ignore(session, Entry, {"source_id": source_id, **values})
            session.commit()
            row = session.exec(
                select(Entry)
                .where(Entry.source_id == source_id)
                .where(Entry.entry_key == values["entry_key"])
            ).one()
            assert row.id is not None
            return row.id

    def due_retries(
        self, source_id: int, now: datetime, exclude: Iterable[int]
    ) -> list[PendingEntry]:
        skip = set(exclude)
        with self._session() as session:
            rows = session.exec(
                select(Entry)
                .where(Entry.source_id == source_id)
                .where(col(Entry.state).in_(("pending", "failed")))
                .where(col(Entry.permanent).is_(False))
            ).all()
        return [
            PendingEntry(row.id, row.link, row.title, row.published, row.feed_content)
            for row in rows
            if row.id is not None
            and row.id not in skip
            and (row.next_try is None or row.next_try <= now)
        ]

    def mark_entry_failed(
        self, entry_id: int, kind: str, detail: str, *, transient: bool, now: datetime
    ) -> bool:
        """Record a failure; returns True when the entry is now given up for good."""
        with self._session() as session:
            row = session.get_one(Entry, entry_id)
            row.attempts += 1
            row.state = "failed"
            row.error_kind = kind
            row.error = detail
            row.permanent = not transient or row.attempts >= MAX_ATTEMPTS
            row.next_try = None if row.permanent else now + retry_delay(row.attempts)
            session.add(row)
            session.commit()
            return row.permanent

    def mark_entry_done(
        self,
        entry_id: int,
        *,
        outcome: str,
        now: datetime,
        item_id: int | None = None,
        duplicate: bool = False,
        final_url: str | None = None,
    ) -> None:
        self._update(
            Entry,
            entry_id,
            {
                "state": "done",
                "outcome": outcome,
                "item_id": item_id,
                "duplicate": duplicate,
                "final_url": final_url,
                "fetched_at": now if final_url else None,
                "error_kind": None,
                "error": None,
                "next_try": None,
            },
        )

    # -- items and dedup -----------------------------------------------------------

    def item_by_urls(self, url_hashes: Sequence[str]) -> int | None:
        if not url_hashes:
            return None
        with self._session() as session:
            row = session.exec(
                select(UrlAlias.item_id).where(col(UrlAlias.url_hash).in_(url_hashes))
            ).first()
            return row

    def item_by_text(self, text_hash: str) -> int | None:
        with self._session() as session:
            return session.exec(
                select(Item.id).where(Item.text_hash == text_hash).order_by(col(Item.id))
            ).first()

    def item_by_paragraphs(self, hashes: Sequence[str], only: int | None = None) -> int | None:
        """An item sharing most of the distinctive paragraphs, boilerplate ignored."""
        if not hashes:
            return None
        with self._session() as session:
            rows = session.exec(
                select(Paragraph.hash, Paragraph.item_id).where(col(Paragraph.hash).in_(hashes))
            ).all()
            spread: dict[str, set[int]] = {}
            for digest, item_id in rows:
                spread.setdefault(digest, set()).add(item_id)
            content = {h for h, items in spread.items() if len(items) < _BOILERPLATE_ITEMS}
            shared: dict[int, int] = {}
            for digest in content:
                for item_id in spread[digest]:
                    if only is None or item_id == only:
                        shared[item_id] = shared.get(item_id, 0) + 1
            if not shared:
                return None
            sizes = {
                item_id: count
                for item_id, count in session.exec(
                    select(Item.id, Item.n_paragraphs).where(col(Item.id).in_(list(shared)))
                ).all()
                if item_id is not None
            }
        return _best_paragraph_match(shared, sizes, len(hashes))

    def add_item(self, item: NewItem) -> int:
        with self._session() as session:
            row = Item(
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
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            self._add_paragraphs(session, row.id, item.paragraph_hashes)
            self._add_aliases(session, row.id, item.aliases)
            session.commit()
            return row.id

    def add_aliases(self, item_id: int, urls: Iterable[str]) -> None:
        with self._session() as session:
            self._add_aliases(session, item_id, urls)
            session.commit()

    def item_text_hash(self, item_id: int) -> str:
        with self._session() as session:
            return session.get_one(Item, item_id).text_hash

    # -- corpus files --------------------------------------------------------------

    def allocate_file(self, item_id: int, key: str, floor: int) -> tuple[int, str]:
        """Give the item the next corpus number; the unique key settles races."""
        while True:
            with self._session() as session:
                highest = session.exec(select(func.max(Item.file_number))).one()
                number = max(-1 if highest is None else highest, floor) + 1
                name = f"{number:03d}_{key}.txt"
                try:
                    session.execute(
                        update(Item)
                        .where(col(Item.id) == item_id)
                        .values(file_number=number, file=name)
                    )
                    session.commit()
                    return number, name
                except IntegrityError:
                    session.rollback()
                    floor = number

    def mark_filed(self, item_id: int, now: datetime) -> None:
        self._update(Item, item_id, {"filed_at": now, "file_missing": False})

    def unwritten_files(self) -> list[tuple[int, str, str | None, str]]:
        """Items given a file name whose file was never written (a crash in between)."""
        with self._session() as session:
            rows = session.exec(
                select(Item)
                .where(col(Item.file).is_not(None))
                .where(col(Item.filed_at).is_(None))
                .where(col(Item.is_seed).is_(False))
            ).all()
            return [(row.id or 0, row.file or "", row.title, row.text) for row in rows]

    def corpus_files(self) -> dict[str, tuple[int, str, bool]]:
        """file name -> (item id, text hash, is seed) for every item that has a file."""
        with self._session() as session:
            rows = session.exec(select(Item).where(col(Item.file).is_not(None))).all()
            return {row.file or "": (row.id or 0, row.text_hash, row.is_seed) for row in rows}

    def add_seed(self, name: str, number: int, key: str, text: str, hashes: Sequence[str]) -> int:
        with self._session() as session:
            row = Item(
                key=key,
                is_seed=True,
                text=text,
                text_hash=text_hash(text),
                n_paragraphs=len(hashes),
                relevant=True,
                score=1.0,
                file=name,
                file_number=number,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            self._add_paragraphs(session, row.id, hashes)
            session.commit()
            return row.id

    def update_seed_text(self, item_id: int, text: str, hashes: Sequence[str]) -> None:
        """A seed the user edited: new fingerprints, the old paragraph hashes kept too."""
        with self._session() as session:
            row = session.get_one(Item, item_id)
            row.text = text
            row.text_hash = text_hash(text)
            row.n_paragraphs = len(hashes)
            session.add(row)
            self._add_paragraphs(session, item_id, hashes)
            session.commit()

    def set_file_missing(self, item_id: int, missing: bool) -> None:
        self._update(Item, item_id, {"file_missing": missing})

    def manifest_rows(self) -> list[dict[str, Any]]:
        with self._session() as session:
            items = session.exec(
                select(Item)
                .where(col(Item.file).is_not(None))
                .where(col(Item.file_missing).is_(False))
                .order_by(col(Item.file_number))
            ).all()
            copies: dict[int, list[str]] = {}
            for item_id, link, final_url in session.exec(
                select(Entry.item_id, Entry.link, Entry.final_url)
                .where(col(Entry.duplicate).is_(True))
                .order_by(col(Entry.id))
            ).all():
                if item_id is not None:
                    copies.setdefault(item_id, []).append(canonical_url(final_url or link))
            return [_manifest_row(item, copies.get(item.id or 0, [])) for item in items]

    # -- helpers -------------------------------------------------------------------

    def _add_paragraphs(self, session: Session, item_id: int, hashes: Sequence[str]) -> None:
        rows = [{"hash": digest, "item_id": item_id} for digest in dict.fromkeys(hashes)]
        self._insert_ignore(session, Paragraph, rows)

    def _add_aliases(self, session: Session, item_id: int, urls: Iterable[str]) -> None:
        rows = [
            {
                "url_hash": url_hash(url),
                "url": url,
                "item_id": item_id,
                "rules_version": URL_RULES_VERSION,
            }
            for url in dict.fromkeys(urls)
        ]
        self._insert_ignore(session, UrlAlias, rows)

    def _insert_ignore(
        self, session: Session, model: Any, values: dict[str, Any] | list[dict[str, Any]]
    ) -> None:
        """INSERT ... ON CONFLICT DO NOTHING, one statement for one row or many."""
        if not values:
            return
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(model).values(values).on_conflict_do_nothing())

    def _update(self, model: Any, row_id: int, values: dict[str, Any]) -> None:
        with self._session() as session:
            session.execute(update(model).where(model.id == row_id).values(**values))
            session.commit()


def _best_paragraph_match(shared: dict[int, int], sizes: dict[int, int], ours: int) -> int | None:
    best: tuple[float, int] | None = None
    for item_id, count in shared.items():
        smaller = min(ours, sizes.get(item_id, 0) or ours)
        needed = 1 if smaller == 1 else 2
        share = count / smaller if smaller else 0.0
        if count >= needed and share >= _MATCH_SHARE and (best is None or share > best[0]):
            best = (share, item_id)
    return best[1] if best else None


def _source_state(row: Source) -> SourceState:
    assert row.id is not None
    return SourceState(
        id=row.id,
        name=row.name,
        feed_url=row.feed_url,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        last_success_at=row.last_success_at,
    )


def _manifest_row(item: Item, duplicates: list[str]) -> dict[str, Any]:
    return {
        "file": item.file,
        "url": item.url,
        "title": item.title,
        "source": item.source_name,
        "authors": item.authors,
        "published": item.published.isoformat() if item.published else None,
        "fetched": item.fetched.isoformat() if item.fetched else None,
        "labels": item.labels,
        "score": item.score,
        "relevant": item.relevant,
        "user_mark": item.user_mark,
        "duplicates": list(dict.fromkeys(duplicates)),
    }
