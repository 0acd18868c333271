"""Digests: the articles a recipient has not been sent, and the record of what was."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import exists, func, or_
from sqlmodel import col, select

from watcher.dedup.urls import canonical_url
from watcher.store._base import StoreBase
from watcher.store._digest_rows import Candidate, Copy, DigestRecord
from watcher.store._rows import ITEMS_TABLE
from watcher.store.models import DigestItem, Entry, Item, SentDigest, Source

# The ties shown: the user's (given with a mark) where given, else the classifier's.
SHOWN_LABELS = func.coalesce(ITEMS_TABLE.c.user_labels, ITEMS_TABLE.c.labels)
# An article is timestamped when it is analysed and committed a moment later: a digest
# chosen in between would miss it if the next window began exactly at the last choice.
# The window overlaps by this much; the record of what was sent keeps it from repeating.
_OVERLAP = timedelta(hours=1)
_EXCERPT_CHARS = 2000  # enough text for a lede; a digest never needs a whole article
_CANDIDATE_COLUMNS = (
    "id",
    "url",
    "title",
    "source_name",
    "authors",
    "published",
    "fetched",
    "relevant",
    "score",
    "labels",  # the shown labels (SHOWN_LABELS) take this place
    "tie_scores",
    "evidence",
    "user_mark",
)


def _candidate_columns() -> list[Any]:
    return [
        SHOWN_LABELS.label("labels") if name == "labels" else ITEMS_TABLE.c[name]
        for name in _CANDIDATE_COLUMNS
    ]


class DigestsMixin(StoreBase):
    def digest_window(self, recipient: str, now: datetime, first: timedelta) -> datetime:
        """Where the recipient's next digest starts: at its last sent (or empty) digest,
        or, for a recipient never sent one, ``first`` before its first attempt."""
        with self.engine.connect() as connection:
            last_ok = connection.execute(
                select(func.max(SentDigest.selected_at))
                .where(SentDigest.recipient == recipient)
                .where(col(SentDigest.status).in_(("sent", "empty")))
            ).scalar()
            if last_ok is not None:
                return _aware(last_ok) - _OVERLAP
            first_try = connection.execute(
                select(func.min(SentDigest.selected_at)).where(SentDigest.recipient == recipient)
            ).scalar()
        return (_aware(first_try) if first_try is not None else now) - first

    def digest_candidates(
        self, recipient: str | None, since: datetime, floor: float
    ) -> list[Candidate]:
        """Articles stored since ``since`` that are relevant, marked so, or scored at
        least ``floor``; without those ``recipient`` was already sent (None: all)."""
        columns = _candidate_columns()
        query = (
            sqlalchemy.select(*columns, func.substr(ITEMS_TABLE.c.text, 1, _EXCERPT_CHARS))
            .where(col(Item.is_seed).is_(False))
            .where(col(Item.copy_of).is_(None))  # an excerpt whose article came since
            .where(col(Item.fetched) >= since)
            .where(
                or_(
                    col(Item.relevant).is_(True),
                    col(Item.user_mark) == "relevant",
                    col(Item.score) >= floor,
                )
            )
            .order_by(col(Item.id))
        )
        if recipient is not None:
            sent = (
                select(DigestItem.item_id)
                .where(DigestItem.recipient == recipient)
                .where(col(DigestItem.item_id) == col(Item.id))
            )
            query = query.where(~exists(sent))
        with self.engine.connect() as connection:
            return [Candidate.of(row) for row in connection.execute(query)]

    def relevant_items(
        self, *, label: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[Candidate]:
        """The newest relevant articles (by your mark, else the classifier's verdict),
        for the Atom feed: newest published first (found, when the date is unknown), as
        a reader lists them; an old article found today does not head the feed."""
        columns = _candidate_columns()
        dated = func.coalesce(col(Item.published), col(Item.fetched))
        query = (
            sqlalchemy.select(*columns, func.substr(ITEMS_TABLE.c.text, 1, _EXCERPT_CHARS))
            .where(col(Item.is_seed).is_(False))
            .where(col(Item.copy_of).is_(None))
            .where(
                or_(
                    col(Item.user_mark) == "relevant",
                    (col(Item.relevant).is_(True)) & (col(Item.user_mark).is_(None)),
                )
            )
            .order_by(dated.desc(), col(Item.id).desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(dated >= since)
        if label is not None:
            query = query.where(sqlalchemy.cast(SHOWN_LABELS, sqlalchemy.Text).like(f'%"{label}"%'))
        with self.engine.connect() as connection:
            return [Candidate.of(row) for row in connection.execute(query)]

    def copies(self, item_ids: Sequence[int]) -> dict[int, list[Copy]]:
        """Where else each article was found (dedup's clusters), first found first; a
        link that leads to the article's own URL (AMP, tracking variants) is no copy."""
        if not item_ids:
            return {}
        found: dict[int, dict[str, Copy]] = {}
        with self.engine.connect() as connection:
            urls: dict[int, str | None] = dict(
                connection.execute(
                    select(Item.id, Item.url).where(col(Item.id).in_(list(item_ids)))
                ).all()
            )
            rows = connection.execute(
                select(Entry.item_id, Entry.link, Entry.final_url, Source.name)
                .join(Source, col(Source.id) == col(Entry.source_id))
                .where(col(Entry.duplicate).is_(True))
                .where(col(Entry.item_id).in_(list(item_ids)))
                .order_by(col(Entry.id))
            )
            for item_id, link, final_url, source in rows:
                url = canonical_url(final_url or link)
                if url != urls.get(item_id):
                    found.setdefault(item_id, {}).setdefault(url, Copy(source, url))
        return {item_id: list(copies.values()) for item_id, copies in found.items()}

    def record_digest(self, record: DigestRecord) -> int:
        """The digest and, when it was sent, what it held: one transaction, written
        only after the server accepted the message (a failed one holds nothing)."""
        with self._session() as session:
            row = SentDigest(
                recipient=record.recipient,
                slot=record.slot,
                selected_at=record.selected_at,
                sent_at=record.sent_at,
                status=record.status,
                message_id=record.message_id,
                items=len(record.item_ids),
                near_misses=len(record.near_miss_ids),
                error=record.error,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            if record.status == "sent":
                rows = [
                    {"recipient": record.recipient, "item_id": item_id, "digest_id": row.id}
                    | {"kind": kind}
                    for kind, ids in (
                        ("item", record.item_ids),
                        ("near_miss", record.near_miss_ids),
                    )
                    for item_id in ids
                ]
                self._insert_ignore(session, DigestItem, rows)
            session.commit()
            return row.id

    def digest_done(self, recipient: str, slot: datetime) -> bool:
        """Whether a digest for this slot (or a later one) was sent, or had nothing."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(SentDigest.id)
                .where(SentDigest.recipient == recipient)
                .where(col(SentDigest.status).in_(("sent", "empty")))
                .where(col(SentDigest.slot) >= slot)
                .limit(1)
            ).first()
        return found is not None

    def has_digests(self, recipient: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(SentDigest.id).where(SentDigest.recipient == recipient).limit(1)
            ).first()
        return found is not None

    def digests(self, recipient: str | None = None) -> list[DigestRecord]:
        """Every digest made (for one recipient), oldest first, with what it held."""
        with self._session() as session:
            query = select(SentDigest).order_by(col(SentDigest.id))
            if recipient is not None:
                query = query.where(SentDigest.recipient == recipient)
            rows = session.exec(query).all()
            held: dict[int, dict[str, list[int]]] = {}
            contents = (
                select(DigestItem.digest_id, DigestItem.item_id, DigestItem.kind)
                .where(col(DigestItem.digest_id).in_([row.id for row in rows]))
                .order_by(col(DigestItem.item_id))
            )
            for digest_id, item_id, kind in session.exec(contents).all():
                held.setdefault(digest_id, {}).setdefault(kind, []).append(item_id)
            return [DigestRecord.of(row, held.get(row.id or 0, {})) for row in rows]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite Core
