"""Full-text search over the stored articles (see watcher.search for the query rules)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text

from watcher.search import MIDDLE_DOTS, Hit, SearchQuery, fts5_match, tsquery
from watcher.store._base import StoreBase
from watcher.store._rows import _utc

_SNIPPET_WORDS = 24

# The filters, the same on both databases. Labels are a JSON list: '"inter-korean"'
# appears in its text exactly when the tie is one of them. The user's ties (given with a
# mark) win over the classifier's, as their verdict does.
_LABELS = "COALESCE(items.user_labels, items.labels)"
_RELEVANT = (
    "CASE WHEN items.user_mark IS NULL THEN items.relevant ELSE items.user_mark = 'relevant' END"
)
_FILTERS = {
    "label": f" AND CAST({_LABELS} AS TEXT) LIKE :label",
    "source": " AND items.source_name = :source",
    "since": " AND COALESCE(items.published, items.fetched) >= :since",
}
_COLUMNS = (
    "items.id, items.title, items.url, items.source_name, items.published,"
    f" {_LABELS}, {_RELEVANT}, items.file"
)
_SQLITE = (
    f"SELECT {_COLUMNS}, snippet(items_fts, -1, '«', '»', '…', {_SNIPPET_WORDS})"
    " FROM items_fts JOIN items ON items.id = items_fts.rowid"
    " WHERE items_fts MATCH :match{filters}"
    " ORDER BY bm25(items_fts, 10.0, 1.0), items.id DESC LIMIT :limit"
)
# Ranked first, then headlines for the page of results only: ts_headline reads the text.
_POSTGRESQL = (
    f"SELECT {_COLUMNS}, ts_headline('simple',"
    f" translate(left(items.text, 20000), '{MIDDLE_DOTS}', ''), q.query,"
    " 'StartSel=«, StopSel=», MaxWords=30, MinWords=12, MaxFragments=1, FragmentDelimiter=…')"
    " FROM (SELECT items.id, ts_rank(items.search, query) AS rank, query"
    "       FROM items, to_tsquery('simple', :match) AS query"
    "       WHERE items.search @@ query{filters}"
    "       ORDER BY rank DESC, items.id DESC LIMIT :limit) AS q"
    " JOIN items ON items.id = q.id ORDER BY q.rank DESC, items.id DESC"
)


class SearchMixin(StoreBase):
    def search(self, query: SearchQuery) -> list[Hit]:
        """The best matches, best first; none for a query with no words."""
        if not query.terms and not query.phrases:
            return []
        postgres = self.engine.dialect.name == "postgresql"
        params: dict[str, Any] = {"limit": query.limit}
        match = tsquery if postgres else fts5_match
        params["match"] = match(query.terms, query.phrases)
        filters = ""
        for name, value in (
            ("label", query.label),
            ("source", query.source),
            ("since", query.since),
        ):
            if value is not None:
                filters += _FILTERS[name]
                params[name] = f'%"{value}"%' if name == "label" else value
        statement = (_POSTGRESQL if postgres else _SQLITE).format(filters=filters)
        with self.engine.connect() as connection:
            rows = connection.execute(text(statement), params).all()
        return [_hit(row) for row in rows]


def _hit(row: Any) -> Hit:
    id_, title, url, source, published, labels, relevant, file, snippet = row
    if isinstance(labels, str):  # a raw SQL row from SQLite: the JSON text
        labels = json.loads(labels)
    return Hit(
        id=int(id_),
        title=title,
        url=url,
        source=source,
        published=_utc(
            datetime.fromisoformat(published) if isinstance(published, str) else published
        ),
        labels=tuple(labels or ()),
        relevant=bool(relevant),
        snippet=" ".join(str(snippet or "").split()),
        file=file,
    )
