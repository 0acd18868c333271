"""Engine and schema: SQLite (WAL) by default, PostgreSQL by URL, the same code.

The schema belongs to Alembic from the first table on, so a database made by any
release upgrades in place; ``open_engine`` brings an empty or older database to head.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from watcher.errors import StoreError

__all__ = ["alembic_config", "current_revision", "head_revision", "open_engine", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Connect, and bring the schema to head unless told not to."""
    engine = _create(url)
    if migrate:
        upgrade(engine)
    return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the daemon's writer and a reader (``watcher items``) work at once;
    # foreign keys are off by default in SQLite and on in PostgreSQL: make them agree.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate database {engine.url!r}: {exc}") from exc


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
