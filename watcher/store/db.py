"""Engine and schema: SQLite (WAL) by default, PostgreSQL by URL, the same code.

The schema belongs to Alembic from the first table on, so a database made by any
release upgrades in place (``watcher db upgrade``); ``open_engine`` makes an empty
database at head and refuses an older one, saying what to run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from watcher.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "HEAD",
    "alembic_config",
    "current_revision",
    "ensure_current",
    "head_revision",
    "open_engine",
    "upgrade",
]

# The newest migration's revision. Opening a database at head reads one row and imports
# no Alembic (a tenth of a second a command would pay); a test holds this to Alembic's
# own head, so a new migration cannot forget it.
HEAD = "0013"

_MIGRATIONS = Path(__file__).parent.parent / "migrations"
_LOCK_KEY = 0x77617463  # "watc": the advisory lock migrations hold on PostgreSQL


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Connect, and check the schema unless told not to: an empty database is made at
    head (a new user runs no extra command); one that is behind is refused with the
    command that upgrades it, because a shared database may still serve older
    processes and its owner decides when it changes."""
    engine = _create(url)
    if migrate:
        try:
            ensure_current(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def ensure_current(engine: Engine) -> None:
    """Raises StoreError unless the schema is at head (or was empty, and now is)."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        # The tables first, then the version: another process making the schema commits
        # both at once, so in this order a schema made in between reads as current (or
        # as empty, and the upgrade below waits for it), never as tables without a
        # version, which stopped one of three services starting on a new database.
        tables = inspect(engine).get_table_names()
        current = current_revision(engine)
        empty = current is None and not tables
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {where}: {exc}") from exc
    if current == HEAD:
        return
    head = head_revision()
    if empty:
        upgrade(engine)
        return
    if current is None:
        raise StoreError(f"the database {where} holds tables but no watcher schema version")
    if current not in _known_revisions():
        raise StoreError(
            f"the database {where} is at schema {current}, which this watcher does not know"
            " (made by a newer version?)"
        )
    raise StoreError(
        f"the database {where} is at schema {current}, this watcher needs {head}: "
        "run `watcher db upgrade` (after a backup)"
    )


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "connect", _postgres_custom_plans)
    return engine


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


def _postgres_custom_plans(dbapi_connection: Any, _record: Any) -> None:
    # psycopg prepares a statement run five times, and PostgreSQL may then keep one
    # generic plan for it, made while the tables were small: on a new database the
    # paragraph lookup kept a sequential scan, 5 ms a query by the end of the first
    # pass instead of 0.2. A plan made for each execution costs a tenth of a millisecond.
    if getattr(getattr(dbapi_connection, "info", None), "server_version", 0) < 120000:
        return  # plan_cache_mode came with PostgreSQL 12
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET plan_cache_mode = force_custom_plan")
    finally:
        dbapi_connection.autocommit = autocommit


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two processes starting on one new database: the second waits here,
                # then finds the schema made (Alembic reads the revision after the lock).
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            elif connection.dialect.name == "sqlite":
                # The sqlite3 module runs DDL outside any transaction: a process killed
                # while it made a new database left tables and no schema version, which
                # the next start refused. One transaction makes it all or nothing, and
                # IMMEDIATE makes a second process on the same new file wait its turn.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except (SQLAlchemyError, RuntimeError) as exc:  # RuntimeError: a migration's own check
        raise StoreError(f"cannot migrate database {engine.url!r}: {exc}") from exc


def head_revision() -> str | None:
    """Alembic's head, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no watcher schema), with one query."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        revisions = list(rows)
    return revisions[0] if len(revisions) == 1 else None
