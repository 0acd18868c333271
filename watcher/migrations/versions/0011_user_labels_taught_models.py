"""user labels and taught models: the user's ties win, and marks refit the model

``items.user_labels`` holds the ties the user gave with their latest mark (``[]`` with
"irrelevant"; NULL when none were given, so the classifier's labels stand): manifest,
digest, Atom and search read it before the classifier's. It is filled from ``marks`` for
the marks made before it existed. ``taught_models`` holds the relevance model refitted
on the shipped examples and the user's marks, one row per model version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("user_labels", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "taught_models",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    bind = op.get_bind()
    value = "CAST(:labels AS JSON)" if bind.dialect.name == "postgresql" else ":labels"
    latest: dict[int, tuple[str, list[str]]] = {}
    for item_id, mark, labels in bind.execute(
        sa.text("SELECT item_id, mark, labels FROM marks ORDER BY id")
    ):
        latest[item_id] = (mark, json.loads(labels) if isinstance(labels, str) else labels)
    for item_id, (mark, labels) in latest.items():
        given = list(labels or []) if mark == "relevant" else []
        if mark == "relevant" and not given:
            continue  # none given: the classifier's labels stand
        bind.execute(
            sa.text(f"UPDATE items SET user_labels = {value} WHERE id = :id"),
            {"labels": json.dumps(given), "id": item_id},
        )


def downgrade() -> None:
    op.drop_table("taught_models")
    op.execute("ALTER TABLE items DROP COLUMN user_labels")
