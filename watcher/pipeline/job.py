"""An entry to process: one value from the feed (or the retry queue) to the settle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.sources.feeds import FeedEntry
from watcher.store import PendingEntry

__all__ = ["Job"]


@dataclass(frozen=True, slots=True)
class Job:
    """An entry whose row is stored, and what its feed said of it."""

    entry_id: int
    link: str
    title: str | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    feed_content: str | None = None
    link_checked: bool = False  # its link was looked up among known articles already
    # An undated entry of a first poll: a page dated before this is archive, not filed.
    not_before: datetime | None = None

    @classmethod
    def admitted(cls, entry_id: int, entry: FeedEntry, not_before: datetime | None) -> Job:
        """An entry just admitted from its feed, its link looked up already."""
        return cls(
            entry_id=entry_id,
            link=entry.link,
            title=entry.title,
            published=entry.published,
            authors=entry.authors,
            feed_content=entry.content,
            link_checked=True,
            not_before=not_before if entry.published is None else None,
        )

    @classmethod
    def waiting(cls, pending: PendingEntry) -> Job:
        """An entry stored earlier whose try is due."""
        return cls(
            entry_id=pending.id,
            link=pending.link,
            title=pending.title,
            published=pending.published,
            feed_content=pending.feed_content,
        )
