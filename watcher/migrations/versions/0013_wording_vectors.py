"""wording vectors: an evidence text's embedding, kept by its digest

Scoring an article again (the 300 newest after every mark, or ``items reclassify``)
embedded the wording of each one the forest is unsure of again, 20 ms apiece: with 90
unsure among them, 1.8 s of a mark. ``wording_vectors`` keeps each embedding (half
precision, 1 KB) under a digest of the text and the encoder's version.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wording_vectors",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )


def downgrade() -> None:
    op.drop_table("wording_vectors")
