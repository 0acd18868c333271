"""The engine, sessions and the few statement helpers every part of the store uses."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, bindparam, func, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from watcher.store._rows import ENTRIES_TABLE, alias_rows
from watcher.store.models import Band, Item, Paragraph, Setting, UrlAlias

if TYPE_CHECKING:
    from watcher.dedup.neardup import NearDupRule, Passage

# Stored texts' passages kept in memory (by item and its text hash): a text that shares
# paragraphs with many new ones is compared again and again in a pass, and shingling it
# each time was a sixth of the settle step. About 16 KB each for a long article.
_PASSAGES_KEPT = 1024

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentlyUsed(Generic[K, V]):
    """A small least-recently-used map, safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: K) -> V | None:
        with self._lock:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            return self._values[key]

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


class StoreBase:
    def __init__(
        self, engine: Engine, dedup: NearDupRule | Callable[[], NearDupRule] | None = None
    ) -> None:
        """``dedup``: the near-duplicate rule, or how to make it when first needed (a
        command that only reads never imports numpy for it); the default rule if None."""
        self.engine = engine
        self._dedup = dedup
        self._passages: RecentlyUsed[tuple[int, str], Passage] = RecentlyUsed(_PASSAGES_KEPT)
        # Called inside the transaction that records new entries, with the ids of those
        # waiting for their first try: a task queue enqueues their jobs there, so that
        # the entries and their jobs are committed together or not at all.
        self.entries_added: Callable[[Connection, list[int]], None] | None = None
        self._bound = threading.local()  # the connection of a thread's ``one_transaction``
        # ``manifest_signature()`` when this store last wrote the manifest (None: not yet)
        self.manifest_written: tuple[Any, ...] | None = None

    @property
    def dedup(self) -> NearDupRule:
        if self._dedup is None or callable(self._dedup):
            from watcher.dedup.neardup import NearDupRule

            self._dedup = self._dedup() if callable(self._dedup) else NearDupRule()
        return self._dedup

    def close(self) -> None:
        if self.engine.dialect.name == "sqlite":  # keeps the planner's statistics fresh
            with contextlib.suppress(SQLAlchemyError), self.engine.connect() as connection:
                connection.execute(text("PRAGMA optimize"))
        self.engine.dispose()

    def ping(self) -> bool:
        """Whether the database answers a trivial query now."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    @contextmanager
    def one_transaction(self, connection: Connection | None = None) -> Iterator[Connection]:
        """Run the store calls this thread makes inside on one connection, in one
        transaction: the settle step's reads and writes cost one pool checkout (with its
        liveness ping) and one commit instead of one of each per call, and commit
        together. ``connection``: a transaction of the caller's (a worker's, holding the
        settle locks), which the caller commits. Only the calls that settle an article
        join (``_connect``, ``_begin``); a failed statement ends the whole transaction,
        so a call that would retry inside one raises instead (``FileNumberTaken``).

        On SQLite the reads run before the driver begins the transaction at the first
        write, so no read snapshot has to be upgraded to a write lock."""
        if connection is not None:
            yield from self._bound_to(connection)
            return
        with self.engine.begin() as own:
            yield from self._bound_to(own)

    def _bound_to(self, connection: Connection) -> Iterator[Connection]:
        self._bound.connection = connection
        try:
            yield connection
        finally:
            self._bound.connection = None

    def _in_transaction(self) -> bool:
        return self._bound_connection() is not None

    def _bound_connection(self) -> Connection | None:
        connection: Connection | None = getattr(self._bound, "connection", None)
        return connection

    def _connect(self) -> AbstractContextManager[Connection]:
        """A connection to read on: this thread's transaction's, if it is in one."""
        bound = self._bound_connection()
        return nullcontext(bound) if bound is not None else self.engine.connect()

    def _begin(self) -> AbstractContextManager[Connection]:
        """A transaction to write in: this thread's, if it is in one (committed by
        whoever began it), else a new one committed on leaving."""
        bound = self._bound_connection()
        return nullcontext(bound) if bound is not None else self.engine.begin()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def _highest_file_number(self) -> int:
        with self._connect() as connection:
            highest = connection.execute(select(func.max(Item.file_number))).scalar()
        return -1 if highest is None else int(highest)

    def _add_paragraphs(
        self, session: Session | Connection, item_id: int, hashes: Sequence[str]
    ) -> None:
        self._add_keys(session, item_id, list(dict.fromkeys(hashes)), Paragraph, "hash")

    def _add_bands(self, session: Session | Connection, item_id: int, keys: Sequence[int]) -> None:
        self._add_keys(session, item_id, list(dict.fromkeys(keys)), Band, "key")

    def _add_keys(
        self, session: Session | Connection, item_id: int, keys: list[Any], model: Any, column: str
    ) -> None:
        """An item's paragraph hashes or LSH keys. PostgreSQL takes them as one array
        (one statement, where executemany sends an execution per row: some thirty an
        article); SQLite's executemany is a loop in C and needs no help."""
        if not keys:
            return
        if self.engine.dialect.name == "postgresql":
            session.execute(_PG_ADD_KEYS[model.__tablename__], {"keys": keys, "item_id": item_id})
        else:
            self._insert_ignore(session, model, [{column: key, "item_id": item_id} for key in keys])

    def _add_aliases(self, session: Session, item_id: int, urls: Iterable[str]) -> None:
        self._insert_ignore(session, UrlAlias, alias_rows(item_id, urls))

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
        rows = values if isinstance(values, list) else [values]
        session.execute(_insert_ignoring(self.engine.dialect.name, model), rows)

    def _mark_done(
        self, connection: Connection | Session, entry_id: int, values: dict[str, Any]
    ) -> None:
        """The entry settled (``done_values``), by a statement built once."""
        connection.execute(ENTRY_DONE, {**values, "b_entry": entry_id})

    @staticmethod
    def _setting(session: Session, name: str) -> str | None:
        row = session.get(Setting, name)
        return row.value if row is not None else None


@cache
def _insert_ignoring(dialect: str, model: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING into ``model``'s table, built once per dialect:
    building and keying a statement costs more than SQLite takes to run it, and the
    settle step runs three of them for every article."""
    return upsert(dialect)(model).on_conflict_do_nothing()


def upsert(dialect: str) -> Any:
    """The dialect's INSERT, which has ON CONFLICT; imported on first use, so that a
    command on SQLite does not import the PostgreSQL dialect (30 ms)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


_PG_ADD_KEYS = {
    "paragraphs": text(
        "INSERT INTO paragraphs (hash, item_id)"
        " SELECT unnest(CAST(:keys AS VARCHAR[])), :item_id ON CONFLICT DO NOTHING"
    ),
    "minhash_bands": text(
        "INSERT INTO minhash_bands (key, item_id)"
        " SELECT unnest(CAST(:keys AS BIGINT[])), :item_id ON CONFLICT DO NOTHING"
    ),
}

# The columns come from the parameters (``done_values``), the row from ``b_entry``.
ENTRY_DONE = update(ENTRIES_TABLE).where(ENTRIES_TABLE.c.id == bindparam("b_entry"))
