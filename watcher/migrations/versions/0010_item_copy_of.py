"""item copy of: an excerpt stored before its full article points to it

When the full text of an article arrives after an excerpt or a teaser of it was stored,
the full text becomes the article and the excerpt its copy: ``items.copy_of`` names the
article (NULL for an article). A plain column (no foreign key): adding one on SQLite
would recreate ``items`` and drop the search triggers of migrations 0007 and 0009.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("copy_of", sa.Integer(), nullable=True))
    op.create_index("ix_items_copy_of", "items", ["copy_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_items_copy_of", table_name="items")
    op.execute("ALTER TABLE items DROP COLUMN copy_of")
