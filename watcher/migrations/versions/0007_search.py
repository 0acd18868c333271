"""search: full-text search over items' titles and texts

SQLite: an FTS5 table ``items_fts`` over ``items`` (external content), kept by
triggers. PostgreSQL: a generated ``tsvector`` column ``items.search`` (title weighted
A, the first 100,000 characters of the text D, the ``simple`` configuration: no
language's stemmer, since a text's language varies) with a GIN index.

A later migration that recreates ``items`` on SQLite (batch mode) drops the triggers
and must make them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE = [
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
_POSTGRESQL = [
    "ALTER TABLE items ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', left(text, 100000)), 'D')) STORED",
    "CREATE INDEX ix_items_search ON items USING gin (search)",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_search")
        op.execute("ALTER TABLE items DROP COLUMN IF EXISTS search")
