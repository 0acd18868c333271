"""Reads for the review page (``watcher.web``): the inbox with its filters, one article
with its marks. The user's verdict and ties win over the classifier's, as everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlalchemy import func, or_
from sqlmodel import col, select

from watcher.store._base import StoreBase
from watcher.store._digests import SHOWN_LABELS
from watcher.store._rows import ITEMS_TABLE, _utc
from watcher.store.models import Item, Mark

__all__ = ["InboxFilter", "InboxPage", "InboxRow", "MarkRecord", "PagesMixin"]

_EXCERPT_CHARS = 400
MARK_FILTERS = ("unmarked", "relevant", "irrelevant")


@dataclass(frozen=True, slots=True)
class InboxFilter:
    tie: str | None = None
    source: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    mark: str | None = None  # unmarked | relevant | irrelevant; None: what counts as relevant


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    title: str | None
    url: str | None
    source: str | None
    published: datetime | None
    fetched: datetime | None
    ties: tuple[str, ...]
    score: float
    user_mark: str | None
    lede: str


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    total: int  # matching the filter
    per_tie: dict[str, int]  # matching the filter but its tie, per tie


@dataclass(frozen=True, slots=True)
class MarkRecord:
    mark: str
    labels: tuple[str, ...]
    created: datetime


_ROW_COLUMNS = [
    ITEMS_TABLE.c.id,
    ITEMS_TABLE.c.title,
    ITEMS_TABLE.c.url,
    ITEMS_TABLE.c.source_name,
    ITEMS_TABLE.c.published,
    ITEMS_TABLE.c.fetched,
    SHOWN_LABELS.label("labels"),
    ITEMS_TABLE.c.score,
    ITEMS_TABLE.c.user_mark,
    func.substr(ITEMS_TABLE.c.text, 1, _EXCERPT_CHARS),
]


class PagesMixin(StoreBase):
    def inbox(
        self, wanted: InboxFilter, ties: tuple[str, ...], offset: int, limit: int
    ) -> InboxPage:
        """Newest first (published, else found); articles, not the excerpts they replaced."""
        dated = func.coalesce(col(Item.published), col(Item.fetched))
        base = _filtered(wanted, dated)
        columns = _ROW_COLUMNS
        tied = _with_tie(base, wanted.tie)
        query = (
            sqlalchemy.select(*columns)
            .where(*tied)
            .order_by(dated.desc(), col(Item.id).desc())
            .offset(offset)
            .limit(limit)
        )
        shown = sqlalchemy.cast(SHOWN_LABELS, sqlalchemy.Text)
        counts = sqlalchemy.select(
            func.count(),
            *(func.sum(sqlalchemy.case((shown.like(f'%"{tie}"%'), 1), else_=0)) for tie in ties),
        ).where(*base)
        with self.engine.connect() as connection:
            rows = tuple(_row(row) for row in connection.execute(query))
            everything, *by_tie = connection.execute(counts).one()
        per_tie = {tie: int(n or 0) for tie, n in zip(ties, by_tie, strict=True)}
        total = per_tie.get(wanted.tie, 0) if wanted.tie else int(everything or 0)
        return InboxPage(rows, total, per_tie)

    def near_misses(self, floor: float, offset: int, limit: int) -> InboxPage:
        """Articles the classifier judged not relevant and nobody marked, scored at least
        ``floor``, closest to the threshold first; their strongest tie as the suggestion."""
        clauses = [
            col(Item.is_seed).is_(False),
            col(Item.copy_of).is_(None),
            col(Item.relevant).is_(False),
            col(Item.user_mark).is_(None),
            col(Item.score) >= floor,
        ]
        columns = [*_ROW_COLUMNS, ITEMS_TABLE.c.tie_scores]
        query = (
            sqlalchemy.select(*columns)
            .where(*clauses)
            .order_by(col(Item.score).desc(), col(Item.id).desc())
            .offset(offset)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = tuple(_suggested(row) for row in connection.execute(query))
            total = connection.execute(sqlalchemy.select(func.count()).where(*clauses)).scalar()
        return InboxPage(rows, int(total or 0), {})

    def relevant_by_week(self, since: datetime) -> list[tuple[datetime, tuple[str, ...], str]]:
        """(date, ties, source) of every article counted relevant dated since ``since``:
        what the overview's chart and table count."""
        dated = func.coalesce(col(Item.published), col(Item.fetched))
        query = sqlalchemy.select(dated, SHOWN_LABELS, ITEMS_TABLE.c.source_name).where(
            *_filtered(InboxFilter(since=since), dated)
        )
        with self.engine.connect() as connection:
            return [
                (_utc(_datetime(when)) or since, tuple(labels or ()), source or "")
                for when, labels, source in connection.execute(query)
                if when is not None
            ]

    def marks_of(self, item_id: int) -> list[MarkRecord]:
        """The user's marks on an item, oldest first (the latest counts)."""
        with self._session() as session:
            rows = session.exec(
                select(Mark).where(Mark.item_id == item_id).order_by(col(Mark.id))
            ).all()
            return [
                MarkRecord(row.mark, tuple(row.labels), _utc(row.created) or row.created)
                for row in rows
            ]

    def item_details(self, item_id: int) -> dict[str, Any] | None:
        """What the article page shows besides the summary: authors, dates, language."""
        with self._session() as session:
            row = session.get(Item, item_id)
            if row is None or row.is_seed:
                return None
            return {
                "authors": tuple(row.authors),
                "published": _utc(row.published),
                "fetched": _utc(row.fetched),
                "language": row.language,
                "tie_scores": dict(row.tie_scores),
                "copy_of": row.copy_of,
            }


def _filtered(wanted: InboxFilter, dated: Any) -> list[Any]:
    clauses: list[Any] = [col(Item.is_seed).is_(False), col(Item.copy_of).is_(None)]
    if wanted.mark == "unmarked":
        clauses += [col(Item.user_mark).is_(None), col(Item.relevant).is_(True)]
    elif wanted.mark in ("relevant", "irrelevant"):
        clauses.append(col(Item.user_mark) == wanted.mark)
    else:
        clauses.append(
            or_(
                col(Item.user_mark) == "relevant",
                (col(Item.relevant).is_(True)) & (col(Item.user_mark).is_(None)),
            )
        )
    if wanted.source:
        clauses.append(col(Item.source_name) == wanted.source)
    if wanted.language:
        clauses.append(col(Item.language) == wanted.language)
    if wanted.since:
        clauses.append(dated >= wanted.since)
    if wanted.until:
        clauses.append(dated < wanted.until)
    return clauses


def _with_tie(clauses: list[Any], tie: str | None) -> list[Any]:
    if tie is None:
        return clauses
    shown = sqlalchemy.cast(SHOWN_LABELS, sqlalchemy.Text)
    return [*clauses, shown.like(f'%"{tie}"%')]


def _row(row: Any) -> InboxRow:
    id_, title, url, source, published, fetched, labels, score, mark, lede = row
    return InboxRow(
        id=int(id_),
        title=title,
        url=url,
        source=source,
        published=_utc(published),
        fetched=_utc(fetched),
        ties=tuple(labels or ()),
        score=float(score),
        user_mark=mark,
        lede=" ".join(str(lede or "").split()),
    )


def _suggested(row: Any) -> InboxRow:
    """A near miss's row: its strongest tie stands in for the labels it lacks."""
    *values, tie_scores = row
    found = _row(values)
    scores = {str(k): float(v) for k, v in (tie_scores or {}).items() if float(v) > 0}
    if found.ties or not scores:
        return found
    strongest = max(scores, key=lambda tie: scores[tie])
    return InboxRow(**{**_fields(found), "ties": (strongest,)})


def _fields(row: InboxRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in InboxRow.__dataclass_fields__}


def _datetime(value: Any) -> datetime | None:
    """A date column through COALESCE: SQLite hands back its text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
