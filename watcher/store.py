"""Storage: every read and write of the database, behind plain values.

ORM rows never leave this module. "Never twice" is the database's job: entries are
unique per (source, key), URL aliases per URL hash, corpus files per name and number;
inserts that lose a race become no-ops, not errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from watcher.config import SourceConfig
from watcher.dedup import URL_RULES_VERSION, canonical_url, text_hash, url_hash
from watcher.errors import FetchError
from watcher.models import Entry, Item, Mark, Paragraph, Setting, Source, UrlAlias

__all__ = [
    "EntryIndex",
    "EntryStatus",
    "ItemSummary",
    "NewItem",
    "PendingEntry",
    "SourceState",
    "Store",
    "retry_delay",
]

MAX_ATTEMPTS = 10  # transient failures, ~5 days of backoff, before an entry is given up
_BOILERPLATE_ITEMS = 3  # a paragraph found in this many items is furniture, not content
_MATCH_SHARE = 0.6  # share of the shorter article's paragraphs two copies must share


_ITEMS = SQLModel.metadata.tables["items"]


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
class ItemSummary:
    id: int
    url: str | None
    title: str | None
    text: str
    key: str
    source: str | None
    relevant: bool
    score: float
    labels: tuple[str, ...]
    evidence: tuple[str, ...]
    user_mark: str | None
    file: str | None
    file_missing: bool


@dataclass(frozen=True, slots=True)
class EntryIndex:
    by_key: dict[str, EntryStatus]
    by_url: dict[str, EntryStatus]

    def lookup(self, key: str, url_hash: str) -> EntryStatus | None:
        """By entry key, else by link: a guid that rotates keeps its link."""
        return self.by_key.get(key) or self.by_url.get(url_hash)


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
            return _status(row.id, row.state, row.permanent, row.next_try, now)

    def entry_index(
        self, source_id: int, keys: Sequence[str], url_hashes: Sequence[str], now: datetime
    ) -> EntryIndex:
        """The entries of one feed already stored, looked up in one query per 500."""
        index = EntryIndex({}, {})
        wanted_keys, wanted_hashes = list(dict.fromkeys(keys)), list(dict.fromkeys(url_hashes))
        with self.engine.connect() as connection:
            for start in range(0, max(len(wanted_keys), len(wanted_hashes)), 500):
                query = (
                    select(Entry.id, Entry.entry_key, Entry.url_hash, Entry.state)
                    .add_columns(col(Entry.permanent), col(Entry.next_try))
                    .where(col(Entry.source_id) == source_id)
                    .where(
                        col(Entry.entry_key).in_(wanted_keys[start : start + 500])
                        | col(Entry.url_hash).in_(wanted_hashes[start : start + 500])
                    )
                    .order_by(col(Entry.id).desc())  # the first-seen entry wins below
                )
                for row in connection.execute(query):
                    status = _status(row.id, row.state, row.permanent, row.next_try, now)
                    index.by_key[row.entry_key] = status
                    index.by_url[row.url_hash] = status
        return index

    def add_entries(self, source_id: int, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Insert new entries in one statement; their ids by entry key."""
        unique = list({row["entry_key"]: {"source_id": source_id, **row} for row in rows}.values())
        if not unique:
            return {}
        with self._session() as session:
            self._insert_ignore(session, Entry, unique)
            session.commit()
            found = session.exec(
                select(Entry.entry_key, Entry.id)
                .where(Entry.source_id == source_id)
                .where(col(Entry.entry_key).in_([row["entry_key"] for row in unique]))
            ).all()
        return {key: entry_id for key, entry_id in found if entry_id is not None}

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
        self._update(Entry, entry_id, _done(outcome, now, item_id, duplicate, final_url))

    # -- items and dedup -----------------------------------------------------------

    def find_original(
        self, url_hashes: Sequence[str], text_hash: str, paragraph_hashes: Sequence[str]
    ) -> int | None:
        """The item this article copies: by URL, else by exact text, else by paragraphs."""
        with self.engine.connect() as connection:
            found = None
            if url_hashes:
                found = connection.execute(
                    select(UrlAlias.item_id).where(col(UrlAlias.url_hash).in_(url_hashes))
                ).scalar()
            if found is None:
                found = connection.execute(
                    select(Item.id).where(Item.text_hash == text_hash).order_by(col(Item.id))
                ).scalar()
            if found is None:
                found = self._by_paragraphs(connection, paragraph_hashes, None)
            return found

    def items_by_url(self, url_hashes: Sequence[str]) -> dict[str, int]:
        """Item ids by URL hash, for the hashes that are known."""
        found: dict[str, int] = {}
        wanted = list(dict.fromkeys(url_hashes))
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                query = select(UrlAlias.url_hash, UrlAlias.item_id).where(
                    col(UrlAlias.url_hash).in_(wanted[start : start + 500])
                )
                found.update({digest: item_id for digest, item_id in connection.execute(query)})
        return found

    def item_by_urls(self, url_hashes: Sequence[str]) -> int | None:
        if not url_hashes:
            return None
        with self.engine.connect() as connection:
            query = select(UrlAlias.item_id).where(col(UrlAlias.url_hash).in_(url_hashes))
            return connection.execute(query).scalars().first()

    def item_by_paragraphs(self, hashes: Sequence[str], only: int | None = None) -> int | None:
        """An item sharing most of the distinctive paragraphs, boilerplate ignored."""
        with self.engine.connect() as connection:
            return self._by_paragraphs(connection, hashes, only)

    def _by_paragraphs(
        self, connection: Connection, hashes: Sequence[str], only: int | None
    ) -> int | None:
        if not hashes:
            return None
        rows = connection.execute(
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
            for item_id, count in connection.execute(
                select(Item.id, Item.n_paragraphs).where(col(Item.id).in_(list(shared)))
            ).all()
            if item_id is not None
        }
        return _best_paragraph_match(shared, sizes, len(hashes))

    def add_item(self, item: NewItem) -> int:
        with self._session() as session:
            row = _item_row(item)
            session.add(row)
            session.flush()
            assert row.id is not None
            self._add_paragraphs(session, row.id, item.paragraph_hashes)
            self._add_aliases(session, row.id, item.aliases)
            session.commit()
            return row.id

    def store_item(
        self, item: NewItem, entry_id: int, *, outcome: str, now: datetime, file_number: int | None
    ) -> tuple[int, str | None]:
        """Insert the item, close its entry and, when ``file_number`` is given, give it
        that corpus number or, if another writer has it, the next free one: one
        transaction, so a crash leaves all of it or none."""
        values = _item_values(item)
        number = file_number
        while True:
            name = None
            if number is not None:
                name = f"{number:03d}_{item.key}.txt"
                values.update(file_number=number, file=name)
            try:
                # Core, not the ORM: this runs once per article on the event loop's thread.
                with self.engine.begin() as connection:
                    item_id: int = connection.execute(
                        insert(_ITEMS).values(values).returning(_ITEMS.c.id)
                    ).scalar_one()
                    self._insert_ignore(connection, Paragraph, _paragraph_rows(item_id, item))
                    self._insert_ignore(connection, UrlAlias, _alias_rows(item_id, item.aliases))
                    connection.execute(
                        update(Entry)
                        .where(col(Entry.id) == entry_id)
                        .values(_done(outcome, now, item_id, False, item.final_url))
                    )
            except IntegrityError:
                if number is None:
                    raise
                number = max(self._highest_file_number(), number) + 1  # taken: the next
                continue
            return item_id, name

    def highest_file_number(self) -> int:
        return self._highest_file_number()

    def _highest_file_number(self) -> int:
        with self.engine.connect() as connection:
            highest = connection.execute(select(func.max(Item.file_number))).scalar()
        return -1 if highest is None else int(highest)

    def record_duplicate(
        self,
        entry_id: int,
        original: int,
        aliases: Sequence[str],
        final_url: str | None,
        now: datetime,
    ) -> None:
        """The entry copies ``original``: its URLs lead there from now on."""
        with self._session() as session:
            self._add_aliases(session, original, aliases)
            session.execute(
                update(Entry)
                .where(col(Entry.id) == entry_id)
                .values(_done("duplicate", now, original, duplicate=True, final_url=final_url))
            )
            session.commit()

    def add_aliases(self, item_id: int, urls: Iterable[str]) -> None:
        with self._session() as session:
            self._add_aliases(session, item_id, urls)
            session.commit()

    def item_text_hash(self, item_id: int) -> str:
        with self._session() as session:
            return session.get_one(Item, item_id).text_hash

    # -- the user's marks ---------------------------------------------------------

    def find_item(self, id_or_url: str) -> ItemSummary | None:
        """An item by its number, its corpus file name, or any URL it is known by."""
        with self._session() as session:
            row: Item | None = None
            if id_or_url.isdigit():
                row = session.get(Item, int(id_or_url))
            if row is None:
                row = session.exec(select(Item).where(Item.file == id_or_url)).first()
            if row is None:
                alias = session.get(UrlAlias, url_hash(canonical_url(id_or_url)))
                row = session.get(Item, alias.item_id) if alias else None
            return _summary(row) if row is not None else None

    def list_items(self, *, relevant_only: bool, limit: int) -> list[ItemSummary]:
        with self._session() as session:
            query = select(Item).where(col(Item.is_seed).is_(False))
            if relevant_only:
                query = query.where(
                    (col(Item.relevant).is_(True)) | (col(Item.user_mark) == "relevant")
                )
            rows = session.exec(query.order_by(col(Item.id).desc()).limit(limit)).all()
            return [_summary(row) for row in rows]

    def add_mark(self, item_id: int, mark: str, labels: Sequence[str], now: datetime) -> int:
        """Record the user's judgement; returns the new model version, which tells a
        running daemon that its classifier has something new to learn."""
        with self._session() as session:
            session.add(Mark(item_id=item_id, mark=mark, labels=list(labels), created=now))
            session.execute(update(Item).where(col(Item.id) == item_id).values(user_mark=mark))
            version = int(self._setting(session, "model_version") or "0") + 1
            session.merge(Setting(name="model_version", value=str(version)))
            session.commit()
            return version

    def model_version(self) -> int:
        with self._session() as session:
            return int(self._setting(session, "model_version") or "0")

    def marked_examples(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(title, text, mark, labels) of every marked item, its latest mark only."""
        with self._session() as session:
            marks = session.exec(select(Mark).order_by(col(Mark.id))).all()
            latest = {mark.item_id: mark for mark in marks}
            items = session.exec(select(Item).where(col(Item.id).in_(list(latest)))).all()
            return [
                (item.title or "", item.text, latest[item.id].mark, tuple(latest[item.id].labels))
                for item in items
                if item.id is not None
            ]

    @staticmethod
    def _setting(session: Session, name: str) -> str | None:
        row = session.get(Setting, name)
        return row.value if row is not None else None

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

    def mark_filed(self, item_ids: Sequence[int], now: datetime) -> None:
        """Record that these items' files are on disk. Deferring this is safe: at start-up
        a file that exists for an item not yet marked is marked then."""
        if not item_ids:
            return
        with self._session() as session:
            session.execute(
                update(Item)
                .where(col(Item.id).in_(list(item_ids)))
                .values(filed_at=now, file_missing=False)
            )
            session.commit()

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
        self._insert_ignore(session, UrlAlias, _alias_rows(item_id, urls))

    def _insert_ignore(
        self,
        session: Session | Connection,
        model: Any,
        values: dict[str, Any] | list[dict[str, Any]],
    ) -> None:
        """INSERT ... ON CONFLICT DO NOTHING for one row or many.

        Rows go as executemany parameters, not a multi-row VALUES clause: the statement
        then compiles once and is cached, whatever the number of rows."""
        if not values:
            return
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = values if isinstance(values, list) else [values]
        session.execute(insert(model).on_conflict_do_nothing(), rows)

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


def _summary(row: Item) -> ItemSummary:
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
    )


def _item_row(item: NewItem) -> Item:
    return Item(**_item_values(item))


def _item_values(item: NewItem) -> dict[str, Any]:
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
        is_seed=False,
        user_mark=None,
        file=None,
        file_number=None,
        filed_at=None,
        file_missing=False,
    )


def _paragraph_rows(item_id: int, item: NewItem) -> list[dict[str, Any]]:
    return [{"hash": h, "item_id": item_id} for h in dict.fromkeys(item.paragraph_hashes)]


def _alias_rows(item_id: int, urls: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {
            "url_hash": url_hash(url),
            "url": url,
            "item_id": item_id,
            "rules_version": URL_RULES_VERSION,
        }
        for url in dict.fromkeys(urls)
    ]


def _done(
    outcome: str, now: datetime, item_id: int | None, duplicate: bool, final_url: str | None
) -> dict[str, Any]:
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


def _status(
    entry_id: int, state: str, permanent: bool, next_try: datetime | None, now: datetime
) -> EntryStatus:
    known = state == "done" or permanent
    if next_try is not None and next_try.tzinfo is None:
        next_try = next_try.replace(tzinfo=UTC)  # Core rows from SQLite come back naive
    return EntryStatus(entry_id, known, not known and (next_try is None or next_try <= now))


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
