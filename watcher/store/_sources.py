"""Sources: polling state keyed by feed URL, so a renamed source keeps its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from watcher.config import SourceConfig
from watcher.models import Source
from watcher.store._base import StoreBase
from watcher.store._rows import (
    PollRecord,
    SourceState,
    source_state,
)


class SourcesMixin(StoreBase):
    def sync_sources(self, sources: Sequence[SourceConfig]) -> dict[str, SourceState]:
        """Rows for the configured sources, keyed by feed URL (a rename keeps history).
        A few statements whatever the number of sources."""
        urls = [source.feed_url for source in sources]
        with self._session() as session:
            rows = [{"feed_url": s.feed_url, "name": s.name} for s in sources]
            self._insert_ignore(session, Source, rows)
            found = {
                row.feed_url: row
                for start in range(0, len(urls), 500)
                for row in session.exec(
                    select(Source).where(col(Source.feed_url).in_(urls[start : start + 500]))
                ).all()
            }
            for source in sources:
                row = found[source.feed_url]
                if row.name != source.name:
                    row.name = source.name
                    session.add(row)
            session.commit()
            return {url: source_state(row) for url, row in found.items()}

    def sync_manual_source(self, feed_url: str, name: str) -> SourceState:
        """The pseudo-source that owns URLs given on the command line."""
        with self._session() as session:
            self._insert_ignore(session, Source, {"feed_url": feed_url, "name": name})
            session.commit()
            row = session.exec(select(Source).where(Source.feed_url == feed_url)).one()
            return source_state(row)

    def source(self, feed_url: str) -> SourceState | None:
        with self._session() as session:
            row = session.exec(select(Source).where(Source.feed_url == feed_url)).first()
            return source_state(row) if row else None

    def record_poll(self, source_id: int, poll: PollRecord, now: datetime) -> None:
        """What one poll came to, in one statement: success (with the feed's validators
        when it was read) or failure, the next poll, and how long it has been quiet.

        The pipeline calls this after the poll's new entries are stored, so validators
        are never saved for entries that are not."""
        values: dict[str, Any] = {
            "last_polled_at": now,
            "next_poll_at": poll.next_poll_at,
            "interval_seconds": poll.interval_seconds,
        }
        if poll.error is not None:
            values.update(
                last_error_kind=poll.error.kind,
                last_error=str(poll.error),
                consecutive_failures=Source.consecutive_failures + 1,
                failing_since=func.coalesce(Source.failing_since, now),
            )
        else:
            values.update(
                last_success_at=now,
                last_error_kind=None,
                last_error=None,
                consecutive_failures=0,
                failing_since=None,
            )
            if poll.validators is not None:
                etag, last_modified, body_hash = poll.validators
                values.update(etag=etag, last_modified=last_modified, body_hash=body_hash)
            if poll.gap:
                values.update(gap_suspected_at=now)
            if poll.new_entries:
                values.update(last_new_at=now, polls_without_new=0)
            else:
                values.update(polls_without_new=Source.polls_without_new + 1)
        with self.engine.begin() as connection:
            connection.execute(update(Source).where(col(Source.id) == source_id).values(values))

    def source_states(self, feed_urls: Sequence[str] | None = None) -> list[SourceState]:
        """Every source's state (or these sources'), by name."""
        with self._session() as session:
            query = select(Source).order_by(col(Source.name))
            if feed_urls is not None:
                query = query.where(col(Source.feed_url).in_(list(feed_urls)))
            return [source_state(row) for row in session.exec(query).all()]
