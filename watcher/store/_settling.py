"""The lock an article is settled under, when more than one thread or process settles.

Settling is the step that checks an article against the stored ones and stores it. Two
settlers given one article syndicated at two addresses would both find no original and
both store it; one lock for all would make that step the cap of the whole pass (about
240 articles/s here, bench/scale.py). So a settler holds a lock per key the article can
be found by (its URLs, text, paragraphs and LSH keys): transaction-scoped advisory
locks, taken in ascending order (no deadlock), released at commit, or when a killed
process's connection closes. The settle step runs in that transaction
(``Store.one_transaction``): its writes and the locks' release are one commit.

SQLite has one writer at a time: a process settles on one thread there, and no lock
is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, text

from watcher.store._base import StoreBase

__all__ = ["SettleLock", "SettlingMixin"]

# Held while an article settles, given its keys; yields the transaction the step joins.
SettleLock = Callable[[list[int]], AbstractContextManager[Connection]]

# In ascending order: the subquery sorts before the locks are taken.
_SETTLE_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(k))"
    " FROM (SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS sorted"
)


class SettlingMixin(StoreBase):
    def settle_lock(self) -> SettleLock | None:
        """The lock for settlers that share this database (PostgreSQL), None on SQLite."""
        if self.engine.dialect.name != "postgresql":
            return None
        engine = self.engine

        @contextmanager
        def hold(keys: list[int]) -> Iterator[Connection]:
            with engine.begin() as connection:
                connection.execute(_SETTLE_LOCKS, {"keys": keys})
                yield connection

        return hold
