"""Plain values of the digest's reads: an article a digest may hold, where its copies
are, and the record of a digest sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.store._rows import _utc
from watcher.store.models import SentDigest

__all__ = ["Candidate", "Copy", "DigestRecord"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article a digest may hold, with as much text as its excerpt needs."""

    id: int
    url: str | None
    title: str | None
    source: str | None
    authors: tuple[str, ...]
    published: datetime | None
    fetched: datetime | None
    relevant: bool
    score: float
    labels: tuple[str, ...]
    tie_scores: dict[str, float]
    evidence: tuple[str, ...]
    user_mark: str | None
    lede: str  # the text's beginning

    @classmethod
    def of(cls, row: Any) -> Candidate:
        (id_, url, title, source, authors, published, fetched) = row[:7]
        (relevant, score, labels, ties, evidence, mark, lede) = row[7:]
        return cls(
            id=id_,
            url=url,
            title=title,
            source=source,
            authors=tuple(authors or ()),
            published=_utc(published),
            fetched=_utc(fetched),
            relevant=bool(relevant),
            score=float(score),
            labels=tuple(labels or ()),
            tie_scores={str(k): float(v) for k, v in (ties or {}).items()},
            evidence=tuple(evidence or ()),
            user_mark=mark,
            lede=lede or "",
        )


@dataclass(frozen=True, slots=True)
class Copy:
    """The same article found elsewhere: where, and at which URL."""

    source: str
    url: str


@dataclass(frozen=True, slots=True)
class DigestRecord:
    recipient: str
    slot: datetime | None
    selected_at: datetime
    status: str  # sent | empty | failed
    sent_at: datetime | None = None
    message_id: str | None = None
    item_ids: tuple[int, ...] = ()
    near_miss_ids: tuple[int, ...] = ()
    error: str | None = None

    @classmethod
    def of(cls, row: SentDigest, held: dict[str, list[int]]) -> DigestRecord:
        return cls(
            recipient=row.recipient,
            slot=_utc(row.slot),
            selected_at=_utc(row.selected_at) or row.selected_at,
            status=row.status,
            sent_at=_utc(row.sent_at),
            message_id=row.message_id,
            item_ids=tuple(held.get("item", ())),
            near_miss_ids=tuple(held.get("near_miss", ())),
            error=row.error,
        )
