"""Sources: polling state keyed by feed URL, so a renamed source keeps its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from watcher.config import SourceConfig
from watcher.errors import FetchError
from watcher.models import Source
from watcher.store._base import StoreBase
from watcher.store._rows import (
    SourceState,
    source_state,
)


class SourcesMixin(StoreBase):
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
            return {row.feed_url: source_state(row) for row in rows}

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

    def reschedule(
        self,
        source_id: int,
        *,
        next_poll_at: datetime,
        interval_seconds: int,
        failed: bool,
        new_entries: int,
        now: datetime,
    ) -> None:
        """The source's next poll, its adapted interval, and how long it has been quiet."""
        values: dict[str, Any] = {
            "next_poll_at": next_poll_at,
            "interval_seconds": interval_seconds,
        }
        if not failed and new_entries:
            values.update(last_new_at=now, polls_without_new=0)
        elif not failed:
            values.update(polls_without_new=Source.polls_without_new + 1)
        with self._session() as session:
            session.execute(update(Source).where(col(Source.id) == source_id).values(**values))
            session.commit()

    def source_states(self, feed_urls: Sequence[str] | None = None) -> list[SourceState]:
        """Every source's state (or these sources'), by name."""
        with self._session() as session:
            query = select(Source).order_by(col(Source.name))
            if feed_urls is not None:
                query = query.where(col(Source.feed_url).in_(list(feed_urls)))
            return [source_state(row) for row in session.exec(query).all()]
