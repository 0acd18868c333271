"""inbox index: the review page's inbox and its counts without reading the articles

The inbox lists articles newest first (published, else found) among those counted
relevant, filtered by tie, source, language and mark, with a count per tie. Without an
index each page read every row, long texts included (0.6 s at 100,000 articles). This
index is ordered as the inbox is and carries every column its filters read, so a page is
a walk down the index and the counts are a scan of it. Statistics are gathered
(ANALYZE) so that SQLite's planner knows ``copy_of IS NULL`` matches nearly every row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILTERS = "relevant, user_mark, source_name, language, is_seed, copy_of, user_labels, labels"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_items_inbox ON items"
            f" ((COALESCE(published, fetched)) DESC, id DESC) INCLUDE ({_FILTERS})"
        )
        op.execute("ANALYZE items")
    else:
        op.execute(
            "CREATE INDEX ix_items_inbox ON items"
            f" (COALESCE(published, fetched) DESC, id DESC, {_FILTERS})"
        )
        op.execute("ANALYZE")


def downgrade() -> None:
    op.execute("DROP INDEX ix_items_inbox")
