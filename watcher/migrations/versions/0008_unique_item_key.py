"""unique item key: one item per article URL, whichever writer stores it first

Two processes that store the same article at once (two `watcher fetch` on one
PostgreSQL) now meet a unique index: the second insert is a no-op and its entry is
recorded as a duplicate. A database that somehow holds two items with one key must be
mended before this migration (it says which key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    twice = (
        op.get_bind()
        .execute(sa.text("SELECT key FROM items GROUP BY key HAVING count(*) > 1 LIMIT 1"))
        .scalar()
    )
    if twice is not None:
        raise RuntimeError(f"two items share the key {twice}: merge them, then upgrade")
    # Plain index statements, not batch mode: recreating items on SQLite would drop
    # the search triggers of migration 0007.
    op.drop_index("ix_items_key", table_name="items")
    op.create_index("ix_items_key", "items", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_items_key", table_name="items")
    op.create_index("ix_items_key", "items", ["key"], unique=False)
