"""source gap, entries by state: a suspected gap per source; an index on entries.state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gap_suspected_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entries_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_state"))
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("gap_suspected_at")
