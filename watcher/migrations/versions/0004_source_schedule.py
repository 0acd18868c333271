"""source schedule: adapted interval and freshness

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interval_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_new_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("polls_without_new", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("polls_without_new")
        batch_op.drop_column("last_new_at")
        batch_op.drop_column("interval_seconds")
