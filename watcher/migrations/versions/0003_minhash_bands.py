"""minhash bands: the near-duplicate index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:30:00

The table starts empty; the store fills it from the stored texts at the next start,
because its keys depend on the configured index parameters (watcher.dedup.neardup).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "minhash_bands",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("key", "item_id"),
    )
    with op.batch_alter_table("minhash_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minhash_bands_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("minhash_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minhash_bands_item_id"))
    op.drop_table("minhash_bands")
