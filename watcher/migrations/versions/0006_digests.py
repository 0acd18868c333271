"""digests: what each recipient was sent; tie scores per item; when a source began failing

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tie_scores", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=True),
        sa.Column("selected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("near_misses", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_digests_recipient"), "digests", ["recipient"], unique=False)
    op.create_table(
        "digest_items",
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digests.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("recipient", "item_id"),
    )
    op.create_index(op.f("ix_digest_items_digest_id"), "digest_items", ["digest_id"], unique=False)
    op.create_index(op.f("ix_digest_items_item_id"), "digest_items", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_items_item_id"), table_name="digest_items")
    op.drop_index(op.f("ix_digest_items_digest_id"), table_name="digest_items")
    op.drop_table("digest_items")
    op.drop_index(op.f("ix_digests_recipient"), table_name="digests")
    op.drop_table("digests")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("tie_scores")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
