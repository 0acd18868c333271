"""Storage: every read and write of the database, behind plain values.

ORM rows never leave this package. "Never twice" is the database's job: entries are
unique per (source, key), URL aliases per URL hash, corpus files per name and number;
inserts that lose a race become no-ops, not errors. ``Store`` is assembled from one
part per concern, each in its own module.
"""

from __future__ import annotations

from watcher.store._corpus import CorpusMixin
from watcher.store._digest_rows import Candidate, Copy, DigestRecord
from watcher.store._digests import DigestsMixin
from watcher.store._entries import EntriesMixin
from watcher.store._items import FileNumberTaken, ItemsMixin, Match
from watcher.store._marks import MarksMixin
from watcher.store._near import NearIndexMixin
from watcher.store._pages import InboxFilter, InboxPage, InboxRow, MarkRecord, PagesMixin
from watcher.store._rows import (
    MAX_ATTEMPTS,
    EntryIndex,
    EntryStatus,
    ItemSummary,
    NewEntry,
    NewItem,
    PendingEntry,
    PollRecord,
    SourceState,
    Validators,
    VerdictUpdate,
    Waiting,
    retry_delay,
)
from watcher.store._search import SearchMixin
from watcher.store._settling import SettleLock, SettlingMixin
from watcher.store._sources import SourcesMixin

__all__ = [
    "MAX_ATTEMPTS",
    "Candidate",
    "Copy",
    "DigestRecord",
    "EntryIndex",
    "EntryStatus",
    "FileNumberTaken",
    "InboxFilter",
    "InboxPage",
    "InboxRow",
    "ItemSummary",
    "MarkRecord",
    "Match",
    "NewEntry",
    "NewItem",
    "PendingEntry",
    "PollRecord",
    "SettleLock",
    "SourceState",
    "Store",
    "Validators",
    "VerdictUpdate",
    "Waiting",
    "retry_delay",
]


class Store(
    SourcesMixin,
    EntriesMixin,
    ItemsMixin,
    NearIndexMixin,
    MarksMixin,
    CorpusMixin,
    DigestsMixin,
    SearchMixin,
    PagesMixin,
    SettlingMixin,
):
    """The database, through plain values. Open with ``Store(open_engine(url))``, and
    give it the configured near-duplicate rule (``Store(engine, NearDupRule.of(config.dedup))``)."""
