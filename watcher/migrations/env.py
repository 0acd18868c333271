"""Alembic environment: runs on the connection handed in by ``watcher.store.db.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import watcher.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("watcher migrations run through watcher.store.db.upgrade(engine)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
