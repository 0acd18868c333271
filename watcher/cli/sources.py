"""sources list | check | discover | import | export."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watcher.cli._common import (
    MARKUP,
    State,
    app,
    database,
    err,
    fail,
    load,
    load_optional,
    out,
    run_async,
    select_sources,
    when,
)
from watcher.errors import ConfigError, FetchError

if TYPE_CHECKING:
    from watcher.store import Waiting

sources_app = typer.Typer(rich_markup_mode=MARKUP, help="The configured sources and their state.")
app.add_typer(sources_app, name="sources")


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """Every configured source: its state, failures, last success and next poll."""
    from watcher.sources.planning import state_health

    config = load(ctx)
    with database(config) as store:
        states = {s.feed_url: s for s in store.source_states([s.feed_url for s in config.sources])}
        waiting = store.waiting_by_source()
    table = Table(title="watcher sources", title_justify="left")
    columns = ("source", "state", "last success", "next poll", "interval", "waiting", "last error")
    for column in columns:
        table.add_column(column)
    for source in config.sources:
        state = states.get(source.feed_url)
        if state is None:
            table.add_row(source.name, "never polled", "", "", "", "", "")
            continue
        said = state_health(state, config.schedule.stale_after_polls, datetime.now(UTC))
        interval = state.interval_seconds or source.interval_minutes * 60
        table.add_row(
            source.name,
            said,
            when(state.last_success_at),
            when(state.next_poll_at),
            f"{interval // 60} min",
            _waiting(waiting.get(state.id)),
            (state.last_error or "") if state.consecutive_failures else "",
        )
    out.print(table)


def _waiting(waiting: Waiting | None) -> str:
    if waiting is None:
        return ""
    kinds = f" ({', '.join(waiting.kinds)})" if waiting.kinds else ""
    retry = f", next {when(waiting.next_try)}" if waiting.next_try else ""
    return f"{waiting.count}{kinds}{retry}"


@sources_app.command("check")
def sources_check(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Sources to check (all).")] = None,
) -> None:
    """Poll sources now and report what came back, storing nothing. Exit 1 if any failed."""
    from watcher.sources.check import check_sources

    config = load(ctx)
    sources = select_sources(config, names or [], False)
    results = run_async(check_sources(config.http, sources))
    table = Table(title="watcher sources check", title_justify="left")
    for column in ("source", "result", "entries", "newest", "feed title"):
        table.add_column(column)
    for result in results:
        said = "ok" if result.error is None else f"FAILED ({result.error.kind})"
        table.add_row(
            result.name, said, str(result.entries), when(result.newest), result.title or ""
        )
    out.print(table)
    for result in results:
        if result.error is not None:
            out.print(f"{result.name}: FAILED {result.error}", markup=False)
        for line in result.warnings:
            out.print(f"{result.name}: warning: {line}", markup=False)
    raise typer.Exit(1 if any(not r.ok for r in results) else 0)


@sources_app.command("discover")
def sources_discover(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A site's home or section page.")],
) -> None:
    """Find a site's feeds and sitemaps; print them as [[sources]] tables to paste.
    Exit 1 if none was found."""
    from watcher.sources.discover import discover, toml_blocks

    config = load_optional(ctx)
    try:
        found = run_async(discover(config.http, url))
    except FetchError as exc:
        fail(f"watcher sources discover: {exc}", 1)
    for problem in found.problems:
        err.print(f"watcher sources discover: warning: {problem}", markup=False)
    blocks = toml_blocks(found)
    if not blocks:
        fail(f"watcher sources discover: no feed or sitemap at {found.page}", 1)
    sys.stdout.write(blocks)


@sources_app.command("import")
def sources_import(
    ctx: typer.Context,
    opml: Annotated[Path, typer.Argument(help="An OPML file (a feed reader's export).")],
) -> None:
    """Add an OPML file's feeds to the configuration file (appended as [[sources]]
    tables; comments kept). Feeds already configured are skipped and said."""
    from watcher.sources.opml import OpmlError, import_opml, read_opml

    state: State = ctx.obj
    load(ctx)  # a broken configuration is reported as such, before the OPML
    try:
        document = read_opml(opml.read_bytes(), origin=str(opml))
        report = import_opml(state.config_path, document.feeds)
    except OSError as exc:
        fail(f"watcher sources import: cannot read {opml}: {exc.strerror}")
    except (OpmlError, ConfigError) as exc:
        fail(f"watcher sources import: {exc}")
    for feed in report.added:
        out.print(f"added {feed.name} <{feed.url}>", markup=False)
    for name, why in report.skipped:
        out.print(f"skipped {name}: {why}", markup=False)
    for problem in document.problems:
        out.print(f"warning: {problem}", markup=False)
    out.print(
        f"{len(report.added)} added to {state.config_path}, {len(report.skipped)} skipped",
        markup=False,
    )


@sources_app.command("export")
def sources_export(ctx: typer.Context) -> None:
    """Every configured source as OPML 2.0, on stdout."""
    from watcher.sources.opml import export_opml

    sys.stdout.write(export_opml(list(load(ctx).sources)))
