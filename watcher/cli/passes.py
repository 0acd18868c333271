"""fetch, run, scheduler, worker, status: the work, and whether it keeps up."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from watcher.cli._common import (
    State,
    app,
    corpus_error,
    database,
    err,
    fail,
    load,
    out,
    run_async,
    select_sources,
)
from watcher.errors import StoreError, WatcherError
from watcher.services.logs import configure_logging

if TYPE_CHECKING:
    from watcher.config import Config, SourceConfig
    from watcher.report import PassReport
    from watcher.services.status import Status

_STATUS_SOURCES = 10  # sources with entries waiting listed by `watcher status`


@app.command()
def fetch(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    url: Annotated[
        list[str] | None, typer.Option("--url", help="Fetch this article URL (repeatable).")
    ] = None,
) -> None:
    """One pass now over every source (or the named ones, or single article URLs)."""
    config = load(ctx)
    sources = select_sources(config, source or [], bool(url))
    try:
        report = _run_with_progress(config, sources, url or [])
    except StoreError as exc:
        fail(f"watcher: {exc}")
    except OSError as exc:
        corpus_error(config, exc)
    _print_report(report)
    raise typer.Exit(1 if report.all_failed else 0)


@app.command()
def run(ctx: typer.Context) -> None:
    """Run as a daemon: poll every source on its own schedule until SIGTERM or SIGINT.

    SIGHUP re-reads the configuration."""
    from watcher.services.daemon import Daemon

    state: State = ctx.obj
    config = load(ctx)
    configure_logging(logging.INFO)  # a service says what it does
    _serve(config, lambda: Daemon(state.config_path, config).run())


@app.command()
def serve(
    ctx: typer.Context,
    listen: Annotated[
        str | None, typer.Option(help="host:port to serve at (default: daemon.listen).")
    ] = None,
) -> None:
    """Serve the review page (and /healthz, /metrics, /feed.atom) from the database alone,
    until SIGTERM or SIGINT: read, search and mark articles in a browser while the daemon
    runs elsewhere. On an address other than loopback it needs WATCHER_WEB_PASSWORD."""
    from watcher.services.serving import serve_alone

    config = load(ctx)
    address = listen or config.daemon.listen or "127.0.0.1:8464"
    configure_logging(logging.INFO)
    _serve(config, lambda: serve_alone(config, address))


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the scaled-out deployment's one scheduler: enqueue due polls and waiting
    entries for `watcher worker`s, write the corpus folder, send the digest.

    Needs PostgreSQL. SIGHUP re-reads the configuration."""
    state: State = ctx.obj
    config = load(ctx)
    configure_logging(logging.INFO)
    _require_scale()
    from watcher.scale.scheduler import Dispatcher
    from watcher.services.daemon import Daemon

    def service() -> Coroutine[Any, Any, None]:
        dispatch = Dispatcher(config)
        return Daemon(state.config_path, config, dispatch=dispatch).run()

    _serve(config, service)


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs at once [default: [queue] concurrency].")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(min=0, help="Analysis processes (0: none) [default: one per CPU]."),
    ] = None,
) -> None:
    """Run queue jobs (polls and articles) for `watcher scheduler`, on any machine that
    reaches the database. Needs PostgreSQL; SIGTERM stops it after the running jobs."""
    state: State = ctx.obj
    config = load(ctx)
    configure_logging(logging.INFO)
    _require_scale()
    from watcher.scale.worker import run_worker

    options = {"concurrency": concurrency, "processes": processes}
    chosen = {key: value for key, value in options.items() if value is not None}
    config = config.model_copy(update={"queue": config.queue.model_copy(update=chosen)})
    _serve(config, lambda: run_worker(state.config_path, config), corpus=False)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Whether the work keeps up: sources due, the oldest due, entries waiting and, in a
    scaled-out deployment, queue depth, jobs per state and workers alive."""
    from watcher.services.status import read_status

    config = load(ctx)
    with database(config) as store:
        feeds = {source.feed_url: source.name for source in config.sources}
        now = datetime.now(UTC)
        found = read_status(store, feeds, now, alive_seconds=config.queue.stalled_seconds)
    if as_json:
        out.print(json.dumps(found.as_dict(), ensure_ascii=False), markup=False)
    else:
        _print_status(found)


def _serve(
    config: Config, service: Callable[[], Coroutine[Any, Any, None]], *, corpus: bool = True
) -> None:
    """Run a service until it stops; what stops it at start-up is exit 2, said. An
    OSError is the corpus folder's for a service that uses it (a worker does not)."""
    try:
        run_async(service())
    except (StoreError, WatcherError) as exc:
        fail(f"watcher: {exc}")
    except OSError as exc:
        if corpus:
            corpus_error(config, exc)
        fail(f"watcher: {exc}")


def _require_scale() -> None:
    if importlib.util.find_spec("procrastinate") is None:
        fail("watcher: the task queue needs procrastinate: pip install 'watcher[scale]'")


def _print_status(found: Status) -> None:
    waited = f", waiting {_duration(found.overdue_seconds)}" if found.oldest_due_since else ""
    oldest = f" (oldest: {found.oldest_due}{waited})" if found.oldest_due else ""
    lines = [
        f"sources: {found.sources}, due now: {found.due}{oldest}",
        f"entries waiting for a try: {found.entries_waiting} due now,"
        f" {sum(found.waiting_by_source.values())} in all",
    ]
    busiest = sorted(found.waiting_by_source.items(), key=lambda pair: -pair[1])
    lines += [f"  {name}: {count} waiting" for name, count in busiest[:_STATUS_SOURCES]]
    if len(busiest) > _STATUS_SOURCES:
        lines.append(f"  and {len(busiest) - _STATUS_SOURCES} more sources")
    queue = found.queue
    if queue is None:
        lines.append("queue: none (single-machine: `watcher run` works in one process)")
    else:
        beat = queue.last_heartbeat.isoformat(timespec="seconds") if queue.last_heartbeat else "-"
        lines.append(f"queue depth: {queue.depth}")
        lines.append(
            f"workers alive: {queue.workers_alive}"
            f" (stalled: {queue.workers_stalled}, last heartbeat: {beat})"
        )
        for task, states in sorted(queue.jobs.items()):
            counts = ", ".join(f"{state} {count}" for state, count in states.items() if count)
            lines.append(f"  {task}: {counts or 'none'}")
    for line in lines:
        out.print(line, markup=False)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _run_with_progress(config: Config, sources: list[SourceConfig], urls: list[str]) -> PassReport:
    from watcher.services.app import fetch_pass

    def waiting() -> None:
        err.print(
            f"watcher: another pass is writing to {config.storage.corpus_dir} "
            "(watcher run, or another fetch); waiting for it to finish",
            markup=False,
        )

    if not err.is_terminal:
        return run_async(fetch_pass(config, sources, urls, on_wait=waiting))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("pages", total=0)

        def progress(_source: str, delta: int) -> None:
            if delta > 0:
                bar.update(task, total=(bar.tasks[0].total or 0) + delta)
            else:
                bar.advance(task)

        return run_async(fetch_pass(config, sources, urls, progress=progress, on_wait=waiting))


def _print_report(report: PassReport) -> None:
    """A table of figures, then the problems: the machine offline once, each source's
    failure, and its entries' failures grouped by kind and host."""
    table = Table(title="watcher fetch", title_justify="left")
    for column in ("source", "seen", "new", "relevant", "filed", "duplicates", "errors"):
        table.add_column(column, justify="left" if column == "source" else "right")
    table.add_column("status", no_wrap=True)
    for source in report.sources:
        state = f"FAILED ({source.error_kind})" if source.failed else "ok"
        numbers = (source.seen, source.new, source.relevant, source.filed, source.duplicates)
        table.add_row(source.name, *map(str, numbers), str(source.errors), state)
    out.print(table)
    if report.offline:
        failed = sum(source.offline for source in report.sources)
        out.print(
            f"this machine seems offline: {failed} of {len(report.sources)} sources failed"
            f" with {report.offline}; they are polled again soon and not backed off for it",
            markup=False,
        )
    for source in report.sources:
        if source.error and not source.offline:
            out.print(f"{source.name}: FAILED {source.error}", markup=False)
        for line in source.warnings:
            out.print(f"{source.name}: warning: {line}", markup=False)
        for group in source.failure_groups():
            out.print(f"{source.name}: {group}", markup=False)
