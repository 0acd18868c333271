"""search compounds: an interpunct inside a word is no word boundary

Korean and Japanese write compounds of two names with a middle dot: 북·러 (North Korea
and Russia), 한·미·일, 日・ロ. Indexed as written, 북·러 was two words, so the query 북러
found nothing. The index now reads its text with every middle dot (U+00B7 ·, U+30FB ・,
U+FF65 ･, U+318D ㆍ, U+2027 ‧) removed, and watcher.search removes them from queries.

SQLite: the FTS5 table reads a view of ``items`` that removes them (so that a rebuild
and the snippets see what the triggers index), and the triggers index the same.
PostgreSQL: the generated ``search`` column is made again with ``translate``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOTS = "\u00b7\u30fb\uff65\u318d\u2027"


def _sqlite_undotted(column: str) -> str:
    expression = column
    for dot in DOTS:
        expression = f"replace({expression}, '{dot}', '')"
    return expression


def _sqlite_triggers() -> list[str]:
    def values(row: str) -> str:
        return f"{row}.id, {_sqlite_undotted(f'{row}.title')}, {_sqlite_undotted(f'{row}.text')}"

    return [
        f"CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
        f" INSERT INTO items_fts(rowid, title, text) VALUES ({values('new')}); END",
        f"CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
        f" INSERT INTO items_fts(items_fts, rowid, title, text)"
        f" VALUES ('delete', {values('old')}); END",
        f"CREATE TRIGGER items_fts_update AFTER UPDATE OF title, text ON items BEGIN"
        f" INSERT INTO items_fts(items_fts, rowid, title, text)"
        f" VALUES ('delete', {values('old')});"
        f" INSERT INTO items_fts(rowid, title, text) VALUES ({values('new')}); END",
    ]


_DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS items_fts_insert",
    "DROP TRIGGER IF EXISTS items_fts_delete",
    "DROP TRIGGER IF EXISTS items_fts_update",
    "DROP TABLE IF EXISTS items_fts",
]
_SQLITE = [
    *_DROP_SQLITE,
    "CREATE VIEW items_search_text AS SELECT id,"
    f" {_sqlite_undotted('title')} AS title, {_sqlite_undotted('text')} AS text FROM items",
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, text, content='items_search_text',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    *_sqlite_triggers(),
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]
_POSTGRESQL = [
    "DROP INDEX IF EXISTS ix_items_search",
    "ALTER TABLE items DROP COLUMN IF EXISTS search",
    "ALTER TABLE items ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector('simple', translate(coalesce(title, ''), '{DOTS}', '')), 'A') || "
    f"setweight(to_tsvector('simple', translate(left(text, 100000), '{DOTS}', '')), 'D')"
    ") STORED",
    "CREATE INDEX ix_items_search ON items USING gin (search)",
]

# As migration 0007 made them.
_OLD_SQLITE = [
    *_DROP_SQLITE,
    "DROP VIEW IF EXISTS items_search_text",
    "CREATE VIRTUAL TABLE items_fts USING fts5("
    "title, text, content='items', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, text)"
    " VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, text ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, text)"
    " VALUES ('delete', old.id, old.title, old.text);"
    " INSERT INTO items_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]
_OLD_POSTGRESQL = [
    "DROP INDEX IF EXISTS ix_items_search",
    "ALTER TABLE items DROP COLUMN IF EXISTS search",
    "ALTER TABLE items ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', left(text, 100000)), 'D')) STORED",
    "CREATE INDEX ix_items_search ON items USING gin (search)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _OLD_SQLITE if sqlite else _OLD_POSTGRESQL:
        op.execute(statement)
