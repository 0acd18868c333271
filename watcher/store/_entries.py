"""Entries: every feed entry seen, with its state (pending, failed, done)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import TextClause, and_, bindparam, case, func, or_, update
from sqlalchemy import select as sa_select  # sqlmodel's types stop at four columns
from sqlmodel import SQLModel, col, select

from watcher.store._base import StoreBase
from watcher.store._rows import (
    MAX_ATTEMPTS,
    EntryIndex,
    NewEntry,
    PendingEntry,
    Waiting,
    _utc,
    done_values,
    entry_row,
    entry_status_of,
    retry_delay,
)
from watcher.store.models import Entry

# Built once: it runs for every source of every pass.
_ENTRIES = SQLModel.metadata.tables["entries"].c
# Waiting for a try: never tried, or failed for a reason that may pass and due again.
_WAITS = and_(
    col(Entry.state).in_(("pending", "failed")),
    col(Entry.permanent).is_(False),
    or_(col(Entry.next_try).is_(None), col(Entry.next_try) <= bindparam("now")),
)
_DUE_RETRIES = (
    sa_select(_ENTRIES.id, _ENTRIES.link, _ENTRIES.title, _ENTRIES.published, _ENTRIES.feed_content)
    .where(_ENTRIES.source_id == bindparam("source_id"))
    .where(_WAITS)
    .order_by(col(Entry.id))
)

_SOURCES = SQLModel.metadata.tables["sources"].c
_WAITING = (
    sa_select(
        _ENTRIES.id,
        _ENTRIES.link,
        _ENTRIES.title,
        _ENTRIES.published,
        _ENTRIES.feed_content,
        _SOURCES.feed_url,
    )
    .join_from(SQLModel.metadata.tables["entries"], SQLModel.metadata.tables["sources"])
    .where(_WAITS)
)


class EntriesMixin(StoreBase):
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
                    status = entry_status_of(row.id, row.state, row.permanent, row.next_try, now)
                    index.by_key[row.entry_key] = status
                    index.by_url[row.url_hash] = status
        return index

    def add_entries(self, source_id: int, entries: Sequence[NewEntry]) -> dict[str, int]:
        """Insert new entries in one statement (a key already stored is left as it is);
        the ids of the given keys."""
        rows = [entry_row(source_id, entry) for entry in entries]
        unique = list({row["entry_key"]: row for row in rows}.values())
        if not unique:
            return {}
        with self._session() as session:
            self._insert_ignore(session, Entry, unique)
            found = session.exec(
                select(Entry.entry_key, Entry.id, Entry.state)
                .where(Entry.source_id == source_id)
                .where(col(Entry.entry_key).in_([row["entry_key"] for row in unique]))
            ).all()
            if self.entries_added is not None:
                waiting = [entry_id for _key, entry_id, state in found if state == "pending"]
                self.entries_added(session.connection(), [i for i in waiting if i is not None])
            session.commit()
        return {key: entry_id for key, entry_id, _state in found if entry_id is not None}

    def due_retries(
        self, source_id: int, now: datetime, exclude: Iterable[int]
    ) -> list[PendingEntry]:
        """The source's entries waiting for their first try or their next one."""
        skip = set(exclude)
        with self.engine.connect() as connection:
            rows = connection.execute(_DUE_RETRIES, {"source_id": source_id, "now": now}).all()
        return [
            PendingEntry(row.id, row.link, row.title, row.published, row.feed_content)
            for row in rows
            if row.id not in skip
        ]

    def sources_with_due_entries(self, now: datetime) -> set[int]:
        """Sources that have entries pending, or failed and due for another try."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa_select(_ENTRIES.source_id).where(_WAITS).distinct(), {"now": now}
            ).scalars()
            return set(rows)

    def count_waiting(self, now: datetime) -> int:
        """How many entries wait for their first or next try."""
        with self.engine.connect() as connection:
            query = sa_select(func.count()).select_from(Entry).where(_WAITS)
            return int(connection.execute(query, {"now": now}).scalar_one())

    def waiting_by_source(self) -> dict[int, Waiting]:
        """Per source id, its entries waiting for a first or next try, due or not: what
        ``watcher sources list``, ``watcher status`` and the digest show, so that an
        entry stuck behind a failing host is seen where its source is."""
        query = (
            sa_select(
                _ENTRIES.source_id, _ENTRIES.error_kind, func.count(), func.min(_ENTRIES.next_try)
            )
            .where(col(Entry.state).in_(("pending", "failed")))
            .where(col(Entry.permanent).is_(False))
            .group_by(_ENTRIES.source_id, _ENTRIES.error_kind)
        )
        counts: dict[int, list[tuple[str | None, int, datetime | None]]] = {}
        with self.engine.connect() as connection:
            for source_id, kind, count, soonest in connection.execute(query):
                counts.setdefault(source_id, []).append((kind, int(count), _utc(soonest)))
        waiting = {}
        for source_id, groups in counts.items():
            tried = [(kind, count) for kind, count, _next in groups if kind]
            kinds = tuple(kind for kind, _count in sorted(tried, key=lambda pair: -pair[1]))
            retries = [soonest for kind, _count, soonest in groups if kind and soonest]
            waiting[source_id] = Waiting(
                count=sum(count for _kind, count, _next in groups),
                tried=sum(count for _kind, count in tried),
                kinds=kinds,
                next_try=min(retries) if retries and len(retries) == len(tried) else None,
            )
        return waiting

    def unqueued_entries(self, now: datetime, unqueued: TextClause, limit: int) -> list[int]:
        """Ids of entries waiting for a try for which ``unqueued`` (SQL over ``entries``:
        a task queue's "no job for it yet") holds, oldest first."""
        with self.engine.connect() as connection:
            query = (
                sa_select(_ENTRIES.id)
                .where(_WAITS)
                .where(unqueued)
                .order_by(_ENTRIES.id)
                .limit(limit)
            )
            return list(connection.execute(query, {"now": now}).scalars())

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

    def forgive_entries(self, entry_ids: Sequence[int]) -> None:
        """Take back the try these entries' last failure counted (the machine was
        offline): an outage of the machine never brings an article nearer to being
        given up."""
        if not entry_ids:
            return
        attempts = Entry.attempts
        statement = (
            update(Entry)
            .where(col(Entry.id).in_(list(entry_ids)))
            .where(col(Entry.state) == "failed")
            .values(attempts=case((col(attempts) > 0, attempts - 1), else_=0), permanent=False)
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

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
        with self._begin() as connection:
            values = done_values(outcome, now, item_id, duplicate, final_url)
            self._mark_done(connection, entry_id, values)

    def waiting_entry(self, entry_id: int, now: datetime) -> tuple[PendingEntry, str] | None:
        """The entry and its source's feed URL if it still waits for a try: a queued
        job for an entry that another job has settled since finds None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                _WAITING.where(_ENTRIES.id == entry_id), {"now": now}
            ).one_or_none()
        if row is None:
            return None
        pending = PendingEntry(row.id, row.link, row.title, row.published, row.feed_content)
        return pending, row.feed_url
