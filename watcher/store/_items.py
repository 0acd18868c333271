"""Items and dedup: one row per article, the URLs, paragraphs and LSH keys it is known by."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import CompoundSelect, Connection, String, bindparam, literal, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from watcher.errors import StoreError
from watcher.store._base import StoreBase, upsert
from watcher.store._rows import (
    BOILERPLATE_ITEMS,
    ITEMS_TABLE,
    NEAR_CANDIDATES,
    NewItem,
    alias_rows,
    done_values,
    item_values,
)
from watcher.store.models import Band, Entry, Item, Paragraph, UrlAlias

if TYPE_CHECKING:
    from watcher.dedup.neardup import Fingerprint, Passage, Shingles

# Built once: a pass looks up every new article, and building a statement costs more
# than SQLite takes to answer it.
_NO_HASH = literal(None, String).label("hash")
# Everything an article can be found by, in one statement: a new article is looked up
# once per settle, and each statement is a round trip that the settling thread (and, on
# PostgreSQL, the server) waits for while the cores are busy extracting.
# kind: 0 a URL alias, 1 the same text, 2 an LSH key, 3 a paragraph (with its hash).
_FOUND_BY: CompoundSelect[Any] = union_all(
    select(literal(0).label("kind"), col(UrlAlias.item_id).label("item_id"), _NO_HASH).where(
        col(UrlAlias.url_hash).in_(bindparam("urls", expanding=True))
    ),
    select(literal(1), col(Item.id), _NO_HASH).where(Item.text_hash == bindparam("digest")),
    select(literal(2), col(Band.item_id), _NO_HASH).where(
        col(Band.key).in_(bindparam("keys", expanding=True))
    ),
    select(literal(3), col(Paragraph.item_id), col(Paragraph.hash)).where(
        col(Paragraph.hash).in_(bindparam("hashes", expanding=True))
    ),
)
_CANDIDATES = (
    select(Item.id, Item.text_hash, Item.copy_of)
    .where(col(Item.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(Item.id))
)
# Only for the candidates whose passages are not kept: a text is read and shingled once.
_TEXTS = select(Item.id, Item.text, Item.title).where(
    col(Item.id).in_(bindparam("ids", expanding=True))
)
_ROOT = select(Item.copy_of).where(col(Item.id) == bindparam("id"))


@cache
def _insert_item(dialect: str) -> Any:
    """The item's row, its columns from the parameters (``item_values``)."""
    return (
        upsert(dialect)(ITEMS_TABLE)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ITEMS_TABLE.c.id)
    )


class FileNumberTaken(StoreError):
    """Another writer gave an article this corpus number while the transaction ran."""

    def __init__(self, number: int) -> None:
        super().__init__(f"corpus file number {number} is taken")
        self.number = number


@dataclass(frozen=True, slots=True)
class Match:
    """A stored item a new text is found to be: ``fuller`` when the stored one is an
    excerpt or a teaser of the new text, which is then the article."""

    item_id: int
    fuller: bool = False


@dataclass(slots=True)
class _Found:
    """The rows of ``_FOUND_BY``, by what they were found by."""

    by_url: list[int]
    by_text: list[int]
    by_band: list[int]
    by_paragraph: dict[str, set[int]]

    @classmethod
    def of(cls, rows: Iterable[Any]) -> _Found:
        found = cls([], [], [], {})
        for kind, item_id, digest in rows:
            if kind == 3:
                found.by_paragraph.setdefault(digest, set()).add(int(item_id))
            else:
                (found.by_url, found.by_text, found.by_band)[kind].append(int(item_id))
        return found

    def ranked(self) -> list[int]:
        """Stored items likely to tell the same article: those sharing LSH keys or
        distinctive paragraphs with it, most shared first. A paragraph found in many
        items is furniture (a disclaimer, a boilerplate sign-off) and proposes none."""
        votes: dict[int, int] = {}
        for item_id in self.by_band:
            votes[item_id] = votes.get(item_id, 0) + 1
        for items in self.by_paragraph.values():
            if len(items) < BOILERPLATE_ITEMS:
                for item_id in items:
                    votes[item_id] = votes.get(item_id, 0) + 1
        ranked = sorted(votes, key=lambda item_id: (-votes[item_id], item_id))
        return ranked[:NEAR_CANDIDATES]


class ItemsMixin(StoreBase):
    def find_original(
        self, url_hashes: Sequence[str], fingerprint: Fingerprint, passage: Passage | None = None
    ) -> int | None:
        """The item this article copies (see ``find_match``); None also when the stored
        item is only an excerpt of this text."""
        match = self.find_match(url_hashes, fingerprint, passage)
        return match.item_id if match is not None and not match.fuller else None

    def find_match(
        self, url_hashes: Sequence[str], fingerprint: Fingerprint, passage: Passage | None = None
    ) -> Match | None:
        """The stored item this text is: by URL, else by exact text, else the first-seen
        stored text that the near-duplicate rule calls the same article, or (given the
        text's ``passage``) of which this text is an excerpt, or which is an excerpt of
        this text (``fuller``). An excerpt superseded by its article leads to the article."""
        params = {
            "urls": list(url_hashes),
            "digest": fingerprint.text_hash,
            "keys": list(dict.fromkeys(fingerprint.bands)),
            "hashes": list(dict.fromkeys(fingerprint.paragraphs)),
        }
        with self._connect() as connection:
            found = _Found.of(connection.execute(_FOUND_BY, params))
            exact = found.by_url or found.by_text
            if exact:
                return Match(self._root(connection, min(exact)))
            return self._first_match(connection, fingerprint.shingles, passage, found.ranked())

    def _root(self, connection: Connection, item_id: int) -> int:
        """The article an item is, following superseded excerpts (never a cycle: an item
        points only to one stored after it)."""
        for _step in range(10):
            parent = connection.execute(_ROOT, {"id": item_id}).scalar()
            if parent is None:
                return item_id
            item_id = int(parent)
        return item_id

    def is_copy_of(self, item_id: int, fingerprint: Fingerprint) -> bool:
        """Whether this text is the stored item's article (a declared canonical is
        believed only then)."""
        with self._connect() as connection:
            row = connection.execute(select(Item.text_hash).where(col(Item.id) == item_id)).scalar()
            if row == fingerprint.text_hash:
                return True
            return self._first_match(connection, fingerprint.shingles, None, [item_id]) is not None

    def items_by_url(self, url_hashes: Sequence[str]) -> dict[str, int]:
        """Item ids by URL hash, for the hashes that are known."""
        found: dict[str, int] = {}
        wanted = list(dict.fromkeys(url_hashes))
        with self._connect() as connection:
            for start in range(0, len(wanted), 500):
                query = select(UrlAlias.url_hash, UrlAlias.item_id).where(
                    col(UrlAlias.url_hash).in_(wanted[start : start + 500])
                )
                found.update({digest: item_id for digest, item_id in connection.execute(query)})
        return found

    def _first_match(
        self,
        connection: Connection,
        shingles: Shingles,
        passage: Passage | None,
        candidates: list[int],
    ) -> Match | None:
        """The first-seen candidate whose text the rule calls the same article, or that
        this text is an excerpt of, or (``fuller``) that is an excerpt of this text."""
        if not candidates:
            return None
        rule = self.dedup
        rows = connection.execute(_CANDIDATES, {"ids": candidates}).all()
        passages = self._candidate_passages(connection, [(int(i), h) for i, h, _c in rows])
        for item_id, text_hash, copy_of in rows:
            # An article (copy_of NULL, nearly always) needs no further question.
            article = int(item_id) if copy_of is None else self._root(connection, int(copy_of))
            theirs = passages.get((int(item_id), text_hash))
            if theirs is None:  # deleted a moment ago
                continue
            whole = (
                rule.whole_copy(passage, theirs)
                if passage is not None
                else rule.same_article(shingles, theirs.shingles)
            )
            if whole:
                return Match(article)
            if passage is None:
                continue
            if rule.partial_of(passage, theirs):
                return Match(article)
            if copy_of is None and rule.partial_of(theirs, passage):
                return Match(int(item_id), fuller=True)
        return None

    def _candidate_passages(
        self, connection: Connection, keys: list[tuple[int, str]]
    ) -> dict[tuple[int, str], Passage]:
        """The candidates' passages, from memory or read and shingled now (and kept)."""
        found = {key: self._passages.peek(key) for key in keys}
        missing = {key[0]: key for key, passage in found.items() if passage is None}
        if missing:
            rule = self.dedup
            rows = connection.execute(_TEXTS, {"ids": list(missing)})
            for item_id, stored, title in rows:
                key = missing[int(item_id)]
                found[key] = self._passages.put(key, rule.passage(stored, title))
        return {key: passage for key, passage in found.items() if passage is not None}

    def remember_passage(self, item_id: int, text_hash: str, passage: Passage) -> None:
        """Keep a stored article's passage (its analysis made it): the next articles it
        is compared with need not read and shingle its text again."""
        self._passages.put((item_id, text_hash), passage)

    def supersede(self, excerpt_id: int, article_id: int) -> None:
        """The excerpt stored first is a copy of the article stored now: its entries are
        the article's duplicates and its URLs lead to the article. Its file, if any,
        stays (files are never overwritten); the manifest names what it is a copy of."""
        with self._begin() as connection:
            connection.execute(
                update(Item)
                .where((col(Item.id) == excerpt_id) | (col(Item.copy_of) == excerpt_id))
                .values(copy_of=article_id)
            )
            connection.execute(
                update(Entry)
                .where(col(Entry.item_id) == excerpt_id)
                .values(item_id=article_id, duplicate=True)
            )
            connection.execute(
                update(UrlAlias)
                .where(col(UrlAlias.item_id) == excerpt_id)
                .values(item_id=article_id)
            )

    def add_item(self, item: NewItem) -> int:
        """Store an item that no entry brought (a test's, a benchmark's); the stored
        one's id if its URL key is known already."""
        with self.engine.begin() as connection:
            item_id = self._insert_item(connection, item, item_values(item))
            return item_id if item_id is not None else self._by_key(connection, item.key)

    def _insert_item(
        self, connection: Connection, item: NewItem, values: dict[str, Any]
    ) -> int | None:
        """The item row, its paragraph fingerprints and its URL aliases; None, and
        nothing written, when an item with its URL key exists (another writer stored the
        same article a moment ago: an upsert, not an error)."""
        statement = _insert_item(self.engine.dialect.name)
        item_id: int | None = connection.execute(statement, values).scalar()
        if item_id is None:
            return None
        self._add_paragraphs(connection, item_id, item.paragraph_hashes)
        self._add_bands(connection, item_id, item.bands)
        self._insert_ignore(connection, UrlAlias, alias_rows(item_id, item.aliases))
        return item_id

    def _insert_settled_item(
        self,
        connection: Connection,
        item: NewItem,
        values: dict[str, Any],
        entry_id: int,
        done: dict[str, Any],
    ) -> int | None:
        """The item and all it is known by, and its entry closed (``done`` with the new
        item's id): one statement on PostgreSQL; None when its URL key is stored."""
        if self.engine.dialect.name == "postgresql":
            from watcher.store._pg_item import store_item_statement

            statement, params = store_item_statement(item, values, entry_id, done)
            found = connection.execute(statement, params).scalar()
            return None if found is None else int(found)
        item_id = self._insert_item(connection, item, values)
        if item_id is not None:
            self._mark_done(connection, entry_id, {**done, "item_id": item_id})
        return item_id

    def store_item(
        self, item: NewItem, entry_id: int, *, outcome: str, now: datetime, file_number: int | None
    ) -> tuple[int, str | None] | None:
        """Insert the item, close its entry and, when ``file_number`` is given, give it
        that corpus number or, if another writer has it, the next free one: one
        transaction, so a crash leaves all of it or none. None when another writer
        stored the same article (its URL key) first: the entry is then its duplicate.

        Within ``one_transaction`` a taken number ends the transaction: FileNumberTaken,
        and the caller runs its step again with a number above ``highest_file_number``."""
        values = item_values(item)
        number = file_number
        while True:
            name = None
            if number is not None:
                name = f"{number:03d}_{item.key}.txt"
                values.update(file_number=number, file=name)
            try:
                # Core, not the ORM: this runs once per article on the event loop's thread.
                with self._begin() as connection:
                    done = done_values(outcome, now, None, False, item.final_url)
                    item_id = self._insert_settled_item(connection, item, values, entry_id, done)
                    if item_id is None:
                        self._lost_race(connection, item, entry_id, now)
                        return None
            except IntegrityError as exc:
                if number is None:
                    raise
                if self._in_transaction():
                    raise FileNumberTaken(number) from exc
                number = max(self._highest_file_number(), number) + 1  # taken: the next
                continue
            return item_id, name

    def _lost_race(
        self, connection: Connection, item: NewItem, entry_id: int, now: datetime
    ) -> None:
        original = self._by_key(connection, item.key)
        done = done_values("duplicate", now, original, True, item.final_url)
        self._mark_done(connection, entry_id, done)
        self._insert_ignore(connection, UrlAlias, alias_rows(original, item.aliases))

    @staticmethod
    def _by_key(connection: Connection, key: str) -> int:
        return int(connection.execute(select(Item.id).where(Item.key == key)).scalar_one())

    def highest_file_number(self) -> int:
        return self._highest_file_number()

    def record_duplicate(
        self,
        entry_id: int,
        original: int,
        aliases: Sequence[str],
        final_url: str | None,
        now: datetime,
    ) -> None:
        """The entry copies ``original``: its URLs lead there from now on."""
        with self._begin() as connection:
            self._insert_ignore(connection, UrlAlias, alias_rows(original, aliases))
            done = done_values("duplicate", now, original, duplicate=True, final_url=final_url)
            self._mark_done(connection, entry_id, done)

    def add_aliases(self, item_id: int, urls: Iterable[str]) -> None:
        with self._session() as session:
            self._add_aliases(session, item_id, urls)
            session.commit()
