"""db upgrade and export atom: the database's schema, and the stream for other programs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from watcher.cli._common import MARKUP, app, check_tie, database, fail, load, out, parse_date
from watcher.errors import StoreError

db_app = typer.Typer(rich_markup_mode=MARKUP, help="The database's schema.")
app.add_typer(db_app, name="db")
export_app = typer.Typer(rich_markup_mode=MARKUP, help="The filtered stream for other programs.")
app.add_typer(export_app, name="export")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database's schema to this version's (Alembic migrations). Back up a
    database before upgrading it: there is no way down from some migrations."""
    from watcher.store.db import current_revision, open_engine, upgrade

    config = load(ctx)
    try:
        engine = open_engine(config.storage.database_url, migrate=False)
        try:
            before = current_revision(engine)
            upgrade(engine)
            after = current_revision(engine)
        finally:
            engine.dispose()
    except StoreError as exc:
        fail(f"watcher: {exc}")
    if before == after:
        out.print(f"the database is at schema {after} already", markup=False)
    else:
        out.print(f"database upgraded from schema {before or '(empty)'} to {after}", markup=False)


@export_app.command("atom")
def export_atom(
    ctx: typer.Context,
    label: Annotated[str | None, typer.Option(help="Only articles with this tie.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published (or found) since then.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 100,
) -> None:
    """The relevant articles as an Atom feed on stdout, newest published first (the
    daemon serves the same at /feed.atom when daemon.listen is set)."""
    from watcher.delivery.atom import relevant_feed

    config = load(ctx)
    check_tie(config, label)
    with database(config) as store:
        feed = relevant_feed(store, label, since=parse_date(since, "export atom"), limit=limit)
    sys.stdout.write(feed)
