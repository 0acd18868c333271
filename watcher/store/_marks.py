"""The user's marks, the items they are made on, the model version they bump, the models
they taught, and the kept embeddings of evidence wording that refits and rescoring read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy import select as sql_select
from sqlmodel import col, select

from watcher.dedup.urls import canonical_url, url_hash
from watcher.store._base import StoreBase
from watcher.store._rows import (
    ItemSummary,
    VerdictUpdate,
    item_summary,
)
from watcher.store.models import Item, Mark, Setting, TaughtModel, UrlAlias, WordingVector

_KEPT_MODELS = 5  # taught models kept before the newest: what was used a moment ago


class MarksMixin(StoreBase):
    def find_item(self, id_or_url: str) -> ItemSummary | None:
        """An item by its number, its corpus file name, or any URL it is known by."""
        with self._session() as session:
            row: Item | None = None
            if id_or_url.isdigit():
                row = session.get(Item, int(id_or_url))
            if row is None:
                row = session.exec(select(Item).where(Item.file == id_or_url)).first()
            if row is None:
                alias = session.get(UrlAlias, url_hash(canonical_url(id_or_url)))
                row = session.get(Item, alias.item_id) if alias else None
            return item_summary(row) if row is not None else None

    def list_items(self, *, relevant_only: bool, limit: int) -> list[ItemSummary]:
        with self._session() as session:
            query = select(Item).where(col(Item.is_seed).is_(False))
            if relevant_only:
                query = query.where(  # by the user's mark where given
                    (col(Item.user_mark) == "relevant")
                    | ((col(Item.relevant).is_(True)) & (col(Item.user_mark).is_(None)))
                )
            rows = session.exec(query.order_by(col(Item.id).desc()).limit(limit)).all()
            return [item_summary(row) for row in rows]

    def recent_unmarked(self, limit: int) -> list[ItemSummary]:
        """The newest stored articles nobody marked (not excerpts of another)."""
        with self._session() as session:
            rows = session.exec(
                select(Item)
                .where(col(Item.is_seed).is_(False))
                .where(col(Item.user_mark).is_(None))
                .where(col(Item.copy_of).is_(None))
                .order_by(col(Item.id).desc())
                .limit(limit)
            ).all()
            return [item_summary(row) for row in rows]

    def stored_items(self) -> list[ItemSummary]:
        """Every article watcher stored (not the user's own files), oldest first."""
        with self._session() as session:
            rows = session.exec(
                select(Item).where(col(Item.is_seed).is_(False)).order_by(col(Item.id))
            ).all()
            return [item_summary(row) for row in rows]

    def update_verdicts(self, verdicts: Sequence[VerdictUpdate]) -> None:
        """The classifier's verdicts, in one transaction (one each cost 300 commits after
        every mark); the user's marks are kept apart and never touched."""
        if not verdicts:
            return
        rows = [
            {
                "id": verdict.item_id,
                "relevant": verdict.relevant,
                "score": verdict.score,
                "labels": list(verdict.labels),
                "evidence": list(verdict.evidence),
                "tie_scores": dict(verdict.tie_scores),
            }
            for verdict in verdicts
        ]
        with self._session() as session:
            session.execute(update(Item), rows)
            session.commit()

    def add_mark(self, item_id: int, mark: str, labels: Sequence[str], now: datetime) -> int:
        """Record the user's judgement and the ties given with it (none given with
        "relevant": the classifier's labels stand); returns the new model version, which
        tells a running daemon that its classifier has something new to learn."""
        with self._session() as session:
            session.add(Mark(item_id=item_id, mark=mark, labels=list(labels), created=now))
            given = list(labels) if labels or mark != "relevant" else None
            session.execute(
                update(Item)
                .where(col(Item.id) == item_id)
                .values(user_mark=mark, user_labels=given)
            )
            version = int(self._setting(session, "model_version") or "0") + 1
            session.merge(Setting(name="model_version", value=str(version)))
            session.commit()
            return version

    def model_version(self) -> int:
        with self._session() as session:
            return int(self._setting(session, "model_version") or "0")

    def marked_examples(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(title, text, mark, labels) of every marked item, its latest mark only, in
        item order (a refit on the same marks is the same model)."""
        with self._session() as session:
            marks = session.exec(select(Mark).order_by(col(Mark.id))).all()
            latest = {mark.item_id: mark for mark in marks}
            items = session.exec(
                select(Item).where(col(Item.id).in_(list(latest))).order_by(col(Item.id))
            ).all()
            return [
                (item.title or "", item.text, latest[item.id].mark, tuple(latest[item.id].labels))
                for item in items
                if item.id is not None
            ]

    def save_taught_model(self, version: int, document: str, marks: int, now: datetime) -> None:
        """Keep the model refitted for ``version`` (and the latest few before it)."""
        with self._session() as session:
            session.merge(TaughtModel(version=version, created=now, marks=marks, document=document))
            session.execute(
                delete(TaughtModel).where(col(TaughtModel.version) < version - _KEPT_MODELS)
            )
            session.commit()

    def wording_vector(self, digest: str) -> bytes | None:
        """The kept embedding of a wording, by its digest (``watcher.relevance.wording``)."""
        with self.engine.connect() as connection:
            return connection.execute(
                sql_select(col(WordingVector.vector)).where(col(WordingVector.digest) == digest)
            ).scalar_one_or_none()

    def keep_wording_vectors(self, vectors: dict[str, bytes]) -> None:
        """Keep embeddings by digest; one kept already (another process's) stays."""
        if not vectors:
            return
        rows = [{"digest": digest, "vector": vector} for digest, vector in vectors.items()]
        with self._session() as session:
            self._insert_ignore(session, WordingVector, rows)
            session.commit()

    def taught_model(self) -> tuple[int, str] | None:
        """(model version, JSON document) of the newest taught model, if any."""
        with self._session() as session:
            row = session.exec(
                select(TaughtModel).order_by(col(TaughtModel.version).desc()).limit(1)
            ).first()
            return (row.version, row.document) if row is not None else None
