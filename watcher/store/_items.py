"""Items and dedup: one row per article, the URLs and paragraphs it is known by."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from watcher.models import Entry, Item, Paragraph, UrlAlias
from watcher.store._base import StoreBase
from watcher.store._rows import (
    BOILERPLATE_ITEMS,
    ITEMS_TABLE,
    NewItem,
    alias_rows,
    best_paragraph_match,
    done_values,
    item_values,
    paragraph_rows,
)


class ItemsMixin(StoreBase):
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
        content = {h for h, items in spread.items() if len(items) < BOILERPLATE_ITEMS}
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
        return best_paragraph_match(shared, sizes, len(hashes))

    def add_item(self, item: NewItem) -> int:
        """Store an item that no entry brought (a test's, a benchmark's)."""
        with self.engine.begin() as connection:
            return self._insert_item(connection, item, item_values(item))

    def _insert_item(self, connection: Connection, item: NewItem, values: dict[str, Any]) -> int:
        """The item row, its paragraph fingerprints and its URL aliases."""
        item_id: int = connection.execute(
            insert(ITEMS_TABLE).values(values).returning(ITEMS_TABLE.c.id)
        ).scalar_one()
        self._insert_ignore(connection, Paragraph, paragraph_rows(item_id, item))
        self._insert_ignore(connection, UrlAlias, alias_rows(item_id, item.aliases))
        return item_id

    def store_item(
        self, item: NewItem, entry_id: int, *, outcome: str, now: datetime, file_number: int | None
    ) -> tuple[int, str | None]:
        """Insert the item, close its entry and, when ``file_number`` is given, give it
        that corpus number or, if another writer has it, the next free one: one
        transaction, so a crash leaves all of it or none."""
        values = item_values(item)
        number = file_number
        while True:
            name = None
            if number is not None:
                name = f"{number:03d}_{item.key}.txt"
                values.update(file_number=number, file=name)
            try:
                # Core, not the ORM: this runs once per article on the event loop's thread.
                with self.engine.begin() as connection:
                    item_id = self._insert_item(connection, item, values)
                    connection.execute(
                        update(Entry)
                        .where(col(Entry.id) == entry_id)
                        .values(done_values(outcome, now, item_id, False, item.final_url))
                    )
            except IntegrityError:
                if number is None:
                    raise
                number = max(self._highest_file_number(), number) + 1  # taken: the next
                continue
            return item_id, name

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
        with self._session() as session:
            self._add_aliases(session, original, aliases)
            session.execute(
                update(Entry)
                .where(col(Entry.id) == entry_id)
                .values(
                    done_values("duplicate", now, original, duplicate=True, final_url=final_url)
                )
            )
            session.commit()

    def add_aliases(self, item_id: int, urls: Iterable[str]) -> None:
        with self._session() as session:
            self._add_aliases(session, item_id, urls)
            session.commit()

    def item_text_hash(self, item_id: int) -> str:
        with self._session() as session:
            return session.get_one(Item, item_id).text_hash
