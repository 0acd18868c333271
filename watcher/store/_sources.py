"""Sources: polling state keyed by feed URL, so a renamed source keeps its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Update, bindparam, case, func, or_, update
from sqlmodel import SQLModel, col, select

from watcher.config import SourceConfig
from watcher.store._base import StoreBase
from watcher.store._rows import (
    PollRecord,
    SourceState,
    source_state,
)
from watcher.store.models import Source


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
        are never saved for entries that are not. The statement for each kind of poll is
        built once: a pass records hundreds of polls, and building an UPDATE costs more
        than SQLite takes to run it."""
        shape = (
            poll.error is not None,
            poll.validators is not None,
            poll.gap,
            poll.new_entries > 0,
        )
        params: dict[str, Any] = {
            "source_id": source_id,
            "now": now,
            "next_poll_at": poll.next_poll_at,
            "interval_seconds": poll.interval_seconds,
        }
        if poll.error is not None:
            params.update(last_error_kind=poll.error.kind, last_error=str(poll.error))
        elif poll.validators is not None:
            params.update(
                etag=poll.validators.etag,
                last_modified=poll.validators.last_modified,
                body_hash=poll.validators.body_hash,
            )
        with self.engine.begin() as connection:
            connection.execute(_poll_statement(*shape), params)

    def forgive_polls(self, source_ids: Sequence[int], next_poll_at: datetime) -> None:
        """Take back the failure the last poll of these sources counted, and poll them
        again at ``next_poll_at``: the machine was offline, not they. (The right-hand
        sides read the row as it was before the update, in SQLite as in PostgreSQL.)"""
        if not source_ids:
            return
        failures = Source.consecutive_failures
        statement = (
            update(Source)
            .where(col(Source.id).in_(list(source_ids)))
            .values(
                consecutive_failures=case((col(failures) > 0, failures - 1), else_=0),
                failing_since=case((col(failures) <= 1, None), else_=Source.failing_since),
                next_poll_at=next_poll_at,
            )
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def source_states(self, feed_urls: Sequence[str] | None = None) -> list[SourceState]:
        """Every source's state (or these sources'), by name."""
        with self._session() as session:
            query = select(Source).order_by(col(Source.name))
            if feed_urls is not None:
                query = query.where(col(Source.feed_url).in_(list(feed_urls)))
            return [source_state(row) for row in session.exec(query).all()]

    def due_sources(self, now: datetime) -> list[tuple[int, str]]:
        """(id, feed URL) of the sources whose poll is due: one narrow query, so that a
        scheduler of many thousand sources does not read every state every tick."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(Source.id, Source.feed_url).where(
                    or_(col(Source.next_poll_at).is_(None), col(Source.next_poll_at) <= now)
                )
            ).all()
        return [(int(source_id), feed_url) for source_id, feed_url in rows]


SOURCES_TABLE = SQLModel.metadata.tables["sources"]


@cache
def _poll_statement(failed: bool, validators: bool, gap: bool, new: bool) -> Update:
    """The UPDATE for one kind of poll, with bound parameters (see ``record_poll``)."""
    now = _bind("now", "last_polled_at")
    values: dict[str, Any] = {
        "last_polled_at": now,
        "next_poll_at": _bind("next_poll_at"),
        "interval_seconds": _bind("interval_seconds"),
    }
    if failed:
        values.update(
            last_error_kind=_bind("last_error_kind"),
            last_error=_bind("last_error"),
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
        if validators:
            names = ("etag", "last_modified", "body_hash")
            values.update({name: _bind(name) for name in names})
        if gap:
            values.update(gap_suspected_at=now)
        if new:
            values.update(last_new_at=now, polls_without_new=0)
        else:
            values.update(polls_without_new=Source.polls_without_new + 1)
    return update(Source).where(col(Source.id) == _bind("source_id", "id")).values(values)


def _bind(name: str, column: str | None = None) -> BindParameter[Any]:
    """A parameter typed as its column is (times go through the column's UTC type)."""
    return bindparam(name, type_=SOURCES_TABLE.c[column or name].type)
