"""The command line: ``watcher [--config PATH] COMMAND``.

Exit codes (DESIGN.md): 0 the command ran (a fetch pass may have had failing sources),
1 every source failed, 2 bad usage or configuration. Output goes to stdout, logs to
stderr.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from watcher.app import fetch_pass, make_classifier, open_store
from watcher.atom import relevant_feed
from watcher.check import check_sources
from watcher.classify import KeywordClassifier
from watcher.classify_io import InputError, read_inputs, verdict_json
from watcher.config import (
    DEFAULT_CONFIG_PATH,
    Config,
    SourceConfig,
    config_path_from_env,
    load_config,
)
from watcher.corpus import write_atomically
from watcher.daemon import Daemon
from watcher.db import current_revision, open_engine, upgrade
from watcher.digest import build_digest, deliver_digests, last_send_time, render
from watcher.discover import discover, toml_blocks
from watcher.errors import ConfigError, FetchError, StoreError, WatcherError
from watcher.logs import configure_logging
from watcher.marks import mark_item
from watcher.opml import OpmlError, export_opml, import_opml, read_opml
from watcher.reclassify import reclassify
from watcher.report import PassReport
from watcher.schedule import health
from watcher.search import SearchQuery, parse_query
from watcher.status import Status, read_status
from watcher.store import Store, Waiting

# Docstrings are wrapped at 100 columns in the source; markdown joins their lines, so
# the terminal wraps whole sentences (rich mode kept the source's line breaks).
_MARKUP: Literal["markdown"] = "markdown"
app = typer.Typer(
    name="watcher",
    help="Follow inter-Korean and Russia-Korea analysis into a text corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=_MARKUP,
)
_STATUS_SOURCES = 10  # sources with entries waiting listed by `watcher status`
# Piped output (a file, grep, a cron mail) gets wide tables: rich would assume 80
# columns and wrap every cell.
_out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
_err = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per message


@dataclass(frozen=True)
class _State:
    config_path: Path


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration file (else $WATCHER_CONFIG, else config/watcher.toml).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every entry filed or failed.")
    ] = False,
) -> None:
    configure_logging(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = _State(config_path_from_env(config))


def _load(ctx: typer.Context) -> Config:
    state: _State = ctx.obj
    try:
        return load_config(state.config_path)
    except ConfigError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None


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
    config = _load(ctx)
    sources = _select(config, source or [], bool(url))
    try:
        report = _run_with_progress(config, sources, url or [])
    except StoreError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        _corpus_error(config, exc)
    _print_report(report)
    raise typer.Exit(1 if report.all_failed else 0)


@app.command()
def run(ctx: typer.Context) -> None:
    """Run as a daemon: poll every source on its own schedule until SIGTERM or SIGINT.

    SIGHUP re-reads the configuration."""
    state: _State = ctx.obj
    config = _load(ctx)
    configure_logging(logging.INFO)  # a service says what it does
    _serve(config, lambda: Daemon(state.config_path, config).run())


def _serve(
    config: Config, service: Callable[[], Coroutine[Any, Any, None]], *, corpus: bool = True
) -> None:
    """Run a service until it stops; what stops it at start-up is exit 2, said. An
    OSError is the corpus folder's for a service that uses it (a worker does not)."""
    try:
        asyncio.run(service())
    except (StoreError, WatcherError) as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        if corpus:
            _corpus_error(config, exc)
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None


def _require_scale() -> None:
    if importlib.util.find_spec("procrastinate") is None:
        _err.print(
            "watcher: the task queue needs procrastinate: pip install 'watcher[scale]'",
            markup=False,
        )
        raise typer.Exit(2)


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the scaled-out deployment's one scheduler: enqueue due polls and waiting
    entries for `watcher worker`s, write the corpus folder, send the digest.

    Needs PostgreSQL. SIGHUP re-reads the configuration."""
    state: _State = ctx.obj
    config = _load(ctx)
    configure_logging(logging.INFO)
    _require_scale()
    from watcher.scale.scheduler import Dispatcher

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
    state: _State = ctx.obj
    config = _load(ctx)
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
    config = _load(ctx)
    try:
        store = Store(open_engine(config.storage.database_url))
    except StoreError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None
    try:
        feeds = {source.feed_url: source.name for source in config.sources}
        now = datetime.now(UTC)
        found = read_status(store, feeds, now, alive_seconds=config.queue.stalled_seconds)
    finally:
        store.close()
    if as_json:
        _out.print(json.dumps(found.as_dict(), ensure_ascii=False), markup=False)
    else:
        _print_status(found)


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
        _out.print(line, markup=False)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


@app.command()
def classify(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Text files, .jsonl files, or - for standard input."),
    ] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read standard input as JSON Lines.")
    ] = False,
) -> None:
    """Classify texts: one JSON line per input on stdout (id, relevant, score, labels,
    evidence). JSON Lines objects carry id, title, text and optionally lang."""
    config = _load_optional(ctx)
    classifier = KeywordClassifier(config.classify.threshold, lexicon=config.lexicon())
    failed = 0
    for source in paths or ["-"]:
        for item in read_inputs(source, jsonl=jsonl):
            if isinstance(item, InputError):
                _err.print(f"watcher classify: {item}", markup=False)
                failed += 1
                continue
            verdict = classifier.classify(item.title, item.text, item.language)
            print(verdict_json(item.id, verdict), flush=False)  # machine output: no rich
    raise typer.Exit(1 if failed else 0)


@app.command()
def digest(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            help="Preview everything stored since this ISO 8601 time (sent or not; "
            "a time without offset is in [digest] timezone)."
        ),
    ] = None,
    preview: Annotated[
        str | None,
        typer.Option(help="Write the HTML to PATH, or the text to stdout with -."),
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Send to every recipient now.")] = False,
) -> None:
    """The digest: preview it (the text on stdout by default), or send it now.

    A preview sends and marks nothing. A send covers what each recipient has not yet
    received, and exits 1 if a message could not be delivered (then nothing is marked
    and the next digest holds it)."""
    config = _load(ctx)
    if send and (preview is not None or since is not None):
        _err.print("watcher digest: --send takes neither --preview nor --since", markup=False)
        raise typer.Exit(2)
    store = _open_database(config)
    try:
        if send:
            raise typer.Exit(_send_digests(config, store))
        since_at = _parse_date(since, "digest", config.digest.zone())
        _preview_digest(config, store, preview or "-", since_at)
    finally:
        store.close()


def _preview_digest(config: Config, store: Store, target: str, since: datetime | None) -> None:
    recipient = config.digest.recipients[0] if config.digest.recipients else None
    made = build_digest(store, config, recipient=recipient, now=datetime.now(UTC), since=since)
    rendered = render(made, config.digest.subject)
    if target == "-":
        sys.stdout.write(rendered.text)
        return
    try:
        write_atomically(Path(target), rendered.html)
    except OSError as exc:
        _err.print(f"watcher digest: cannot write {target}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(2) from None
    _err.print(f"digest preview ({made.count} articles) written to {target}", markup=False)


def _send_digests(config: Config, store: Store) -> int:
    if not config.digest.recipients:
        _err.print("watcher digest: no recipients: set [digest] recipients", markup=False)
        return 2
    now = datetime.now(UTC)
    slot = last_send_time(now, config.digest.send_at, config.digest.zone())
    outcomes = asyncio.run(deliver_digests(store, config, now=now, slot=slot))
    for outcome in outcomes:
        counts = f"{outcome.items} articles, {outcome.near_misses} near misses"
        if outcome.status == "sent":
            _out.print(f"{outcome.recipient}: sent ({counts}) {outcome.message_id}", markup=False)
        elif outcome.status == "empty":
            _out.print(f"{outcome.recipient}: nothing new, nothing sent", markup=False)
        else:
            _out.print(
                f"{outcome.recipient}: NOT SENT: {outcome.error}; its {counts} wait "
                "for the next digest",
                markup=False,
            )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


sources_app = typer.Typer(rich_markup_mode=_MARKUP, help="The configured sources and their state.")
app.add_typer(sources_app, name="sources")


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """Every configured source: its state, failures, last success and next poll."""
    config = _load(ctx)
    store = _open_database(config)
    try:
        states = {s.feed_url: s for s in store.source_states([s.feed_url for s in config.sources])}
        waiting = store.waiting_by_source()
    finally:
        store.close()
    table = Table(title="watcher sources", title_justify="left")
    columns = ("source", "state", "last success", "next poll", "interval", "waiting", "last error")
    for column in columns:
        table.add_column(column)
    for source in config.sources:
        state = states.get(source.feed_url)
        if state is None:
            table.add_row(source.name, "never polled", "", "", "", "", "")
            continue
        status = health(
            polled=state.last_polled_at is not None,
            failures=state.consecutive_failures,
            error_kind=state.last_error_kind,
            polls_without_new=state.polls_without_new,
            stale_after=config.schedule.stale_after_polls,
            gap_since=state.gap_suspected_at,
            now=datetime.now(UTC),
        )
        interval = state.interval_seconds or source.interval_minutes * 60
        table.add_row(
            source.name,
            status,
            _when(state.last_success_at),
            _when(state.next_poll_at),
            f"{interval // 60} min",
            _waiting(waiting.get(state.id)),
            (state.last_error or "") if state.consecutive_failures else "",
        )
    _out.print(table)


def _waiting(waiting: Waiting | None) -> str:
    if waiting is None:
        return ""
    kinds = f" ({', '.join(waiting.kinds)})" if waiting.kinds else ""
    retry = f", next {_when(waiting.next_try)}" if waiting.next_try else ""
    return f"{waiting.count}{kinds}{retry}"


@sources_app.command("check")
def sources_check(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Sources to check (all).")] = None,
) -> None:
    """Poll sources now and report what came back, storing nothing. Exit 1 if any failed."""
    config = _load(ctx)
    sources = _select(config, names or [], False)
    results = asyncio.run(check_sources(config.http, sources))
    table = Table(title="watcher sources check", title_justify="left")
    for column in ("source", "result", "entries", "newest", "feed title"):
        table.add_column(column)
    for result in results:
        status = "ok" if result.error is None else f"FAILED ({result.error.kind})"
        table.add_row(
            result.name,
            status,
            str(result.entries),
            _when(result.newest),
            result.title or "",
        )
    _out.print(table)
    for result in results:
        if result.error is not None:
            _out.print(f"{result.name}: FAILED {result.error}", markup=False)
        for line in result.warnings:
            _out.print(f"{result.name}: warning: {line}", markup=False)
    raise typer.Exit(1 if any(not r.ok for r in results) else 0)


@sources_app.command("discover")
def sources_discover(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A site's home or section page.")],
) -> None:
    """Find a site's feeds and sitemaps; print them as [[sources]] tables to paste.
    Exit 1 if none was found."""
    config = _load_optional(ctx)
    try:
        found = asyncio.run(discover(config.http, url))
    except FetchError as exc:
        _err.print(f"watcher sources discover: {exc}", markup=False)
        raise typer.Exit(1) from None
    for problem in found.problems:
        _err.print(f"watcher sources discover: warning: {problem}", markup=False)
    blocks = toml_blocks(found)
    if not blocks:
        _err.print(f"watcher sources discover: no feed or sitemap at {found.page}", markup=False)
        raise typer.Exit(1)
    sys.stdout.write(blocks)


@sources_app.command("import")
def sources_import(
    ctx: typer.Context,
    opml: Annotated[Path, typer.Argument(help="An OPML file (a feed reader's export).")],
) -> None:
    """Add an OPML file's feeds to the configuration file (appended as [[sources]]
    tables; comments kept). Feeds already configured are skipped and said."""
    state: _State = ctx.obj
    _load(ctx)  # a broken configuration is reported as such, before the OPML
    try:
        document = read_opml(opml.read_bytes(), origin=str(opml))
        report = import_opml(state.config_path, document.feeds)
    except OSError as exc:
        _err.print(f"watcher sources import: cannot read {opml}: {exc.strerror}", markup=False)
        raise typer.Exit(2) from None
    except (OpmlError, ConfigError) as exc:
        _err.print(f"watcher sources import: {exc}", markup=False)
        raise typer.Exit(2) from None
    for feed in report.added:
        _out.print(f"added {feed.name} <{feed.url}>", markup=False)
    for name, why in report.skipped:
        _out.print(f"skipped {name}: {why}", markup=False)
    for problem in document.problems:
        _out.print(f"warning: {problem}", markup=False)
    _out.print(
        f"{len(report.added)} added to {state.config_path}, {len(report.skipped)} skipped",
        markup=False,
    )


@sources_app.command("export")
def sources_export(ctx: typer.Context) -> None:
    """Every configured source as OPML 2.0, on stdout."""
    sys.stdout.write(export_opml(list(_load(ctx).sources)))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


items_app = typer.Typer(
    rich_markup_mode=_MARKUP, help="The stored articles: list them, correct their verdicts."
)
app.add_typer(items_app, name="items")


@items_app.command("list")
def items_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Not only the relevant.")] = False,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 30,
) -> None:
    """The newest articles with their verdict, labels, mark and file."""
    store = _open_database(_load(ctx))  # it only reads: the corpus folder is the writers'
    try:
        items = store.list_items(relevant_only=not show_all, limit=limit)
    finally:
        store.close()
    table = Table(title="watcher items", title_justify="left")
    for column in ("id", "score", "labels", "mark", "file", "title"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            f"{item.score:.2f}",
            ", ".join(item.labels),
            item.user_mark or "",
            item.file or "",
            item.title or item.url or "",
        )
    _out.print(table)


@items_app.command("search")
def items_search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words to find (all of them, as prefixes); "quoted words" as a phrase.'
        ),
    ],
    label: Annotated[str | None, typer.Option(help="Only articles with this tie.")] = None,
    source: Annotated[str | None, typer.Option(help="Only articles from this source.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published (or found) since this date.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, best first.")] = 20,
) -> None:
    """Search the stored articles' titles and texts (every language), best match first,
    with the passage that matched. Exit 1 if nothing was found."""
    config = _load(ctx)
    terms, phrases = parse_query(query)
    if not terms and not phrases:
        _err.print(f"watcher items search: no words to search for in {query!r}", markup=False)
        raise typer.Exit(2)
    _check_tie(config, label)
    since_date = _parse_date(since, "items search")
    wanted = SearchQuery(terms, phrases, label, source, since_date, limit)
    store = _open_database(config)
    try:
        hits = store.search(wanted)
    finally:
        store.close()
    if not hits:
        said = [*terms, *(f'"{" ".join(phrase)}"' for phrase in phrases)]
        _out.print(f"nothing found for {' '.join(said)}", markup=False)
        raise typer.Exit(1)
    for hit in hits:
        when = f"{hit.published:%Y-%m-%d}" if hit.published else "undated"
        labels = ", ".join(hit.labels) or ("relevant" if hit.relevant else "not relevant")
        _out.print(f"{hit.id}  {hit.title or hit.url}", markup=False, style="bold")
        _out.print(f"    {hit.source or ''} · {when} · {labels} · {hit.url or ''}", markup=False)
        _out.print(f"    {hit.snippet}", markup=False)


@items_app.command("mark")
def items_mark(
    ctx: typer.Context,
    id_or_url: Annotated[str, typer.Argument(help="Item number, corpus file name, or URL.")],
    mark: Annotated[str, typer.Argument(help="relevant or irrelevant")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="The tie it bears on (repeatable).")
    ] = None,
) -> None:
    """Record your judgement: it files or keeps the article, and teaches the classifier."""
    config = _load(ctx)
    store = _open_store(config)
    try:
        result = mark_item(
            store,
            config.storage.corpus_dir,
            id_or_url,
            mark,
            label or [],
            datetime.now(UTC),
            ties=config.lexicon().names,
        )
    except (LookupError, ValueError) as exc:
        _err.print(f"watcher items mark: {exc.args[0]}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        _corpus_error(config, exc)
    filed = f"; filed as {result.filed}" if result.filed else ""
    _out.print(f"item {result.item.id} marked {mark}{filed}", markup=False)


@items_app.command("reclassify")
def items_reclassify(ctx: typer.Context) -> None:
    """Re-score every stored article with the current configuration, model and marks."""
    config = _load(ctx)
    store = _open_store(config)
    classifier = make_classifier(config, store)
    try:
        report = reclassify(
            store,
            config.storage.corpus_dir,
            classifier,
            datetime.now(UTC),
            file_all=config.storage.file_all,
        )
    except OSError as exc:
        _corpus_error(config, exc)
    _out.print(
        f"reclassified {report.items} articles: {report.changed} verdicts changed "
        f"({report.now_relevant} now relevant, {report.no_longer_relevant} no longer); "
        f"{len(report.filed)} filed",
        markup=False,
    )
    for name in report.filed:
        _out.print(f"filed {name}", markup=False)


db_app = typer.Typer(rich_markup_mode=_MARKUP, help="The database's schema.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database's schema to this version's (Alembic migrations). Back up a
    database before upgrading it: there is no way down from some migrations."""
    config = _load(ctx)
    try:
        engine = open_engine(config.storage.database_url, migrate=False)
        try:
            before = current_revision(engine)
            upgrade(engine)
            after = current_revision(engine)
        finally:
            engine.dispose()
    except StoreError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None
    if before == after:
        _out.print(f"the database is at schema {after} already", markup=False)
    else:
        _out.print(f"database upgraded from schema {before or '(empty)'} to {after}", markup=False)


export_app = typer.Typer(rich_markup_mode=_MARKUP, help="The filtered stream for other programs.")
app.add_typer(export_app, name="export")


@export_app.command("atom")
def export_atom(
    ctx: typer.Context,
    label: Annotated[str | None, typer.Option(help="Only articles with this tie.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles found since then.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 100,
) -> None:
    """The relevant articles as an Atom feed on stdout (the daemon serves the same at
    /feed.atom when daemon.listen is set)."""
    config = _load(ctx)
    _check_tie(config, label)
    store = _open_database(config)
    try:
        feed = relevant_feed(store, label, since=_parse_date(since, "export atom"), limit=limit)
    finally:
        store.close()
    sys.stdout.write(feed)


def _check_tie(config: Config, label: str | None) -> None:
    if label is not None and label not in config.lexicon().names:
        known = ", ".join(config.lexicon().names)
        _err.print(f"watcher: unknown tie {label!r}; known: {known}", markup=False)
        raise typer.Exit(2)


def _parse_date(value: str | None, command: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date or time from the command line; one without an offset is in
    ``zone`` (the digest's time zone for the digest, else UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _err.print(f"watcher {command}: {value!r} is not an ISO 8601 date or time", markup=False)
        raise typer.Exit(2) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def _open_database(config: Config) -> Store:
    """The database alone, for commands that only read it (the corpus folder is left to
    the writers, which hold its lock)."""
    try:
        return Store(open_engine(config.storage.database_url), config.dedup.rule())
    except StoreError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None


def _open_store(config: Config) -> Store:
    try:
        return open_store(config)
    except StoreError as exc:
        _err.print(f"watcher: {exc}", markup=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        _corpus_error(config, exc)


def _corpus_error(config: Config, exc: OSError) -> NoReturn:
    """The corpus folder cannot be used: say which and why, without a traceback."""
    where = exc.filename or config.storage.corpus_dir
    _err.print(
        f"watcher: cannot use the corpus folder {config.storage.corpus_dir}: "
        f"{exc.strerror or exc} ({where}); stored articles are kept and their files "
        "are written once the folder can be used",
        markup=False,
    )
    raise typer.Exit(2) from None


def _load_optional(ctx: typer.Context) -> Config:
    """The configuration if one was named or the default file exists; else defaults."""
    state: _State = ctx.obj
    if state.config_path == DEFAULT_CONFIG_PATH and not state.config_path.exists():
        return Config()
    return _load(ctx)


def _select(config: Config, names: list[str], have_urls: bool) -> list[SourceConfig]:
    if not names:
        return [] if have_urls else list(config.sources)
    by_name = {s.name: s for s in config.sources}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(repr(n) for n in by_name) or "(none configured)"
        _err.print(
            f"watcher: unknown source {', '.join(map(repr, unknown))}; known: {known}", markup=False
        )
        raise typer.Exit(2)
    return [by_name[name] for name in names]


def _run_with_progress(config: Config, sources: list[SourceConfig], urls: list[str]) -> PassReport:
    def waiting() -> None:
        _err.print(
            f"watcher: another pass is writing to {config.storage.corpus_dir} "
            "(watcher run, or another fetch); waiting for it to finish",
            markup=False,
        )

    if not _err.is_terminal:
        return asyncio.run(fetch_pass(config, sources, urls, on_wait=waiting))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as bar:
        task = bar.add_task("pages", total=0)

        def progress(_source: str, delta: int) -> None:
            if delta > 0:
                bar.update(task, total=(bar.tasks[0].total or 0) + delta)
            else:
                bar.advance(task)

        return asyncio.run(fetch_pass(config, sources, urls, progress=progress, on_wait=waiting))


def _print_report(report: PassReport) -> None:
    """A table of figures, then one line per problem with its full cause."""
    table = Table(title="watcher fetch", title_justify="left")
    for column in ("source", "seen", "new", "relevant", "filed", "duplicates", "errors"):
        table.add_column(column, justify="left" if column == "source" else "right")
    table.add_column("status", no_wrap=True)
    for source in report.sources:
        status = f"FAILED ({source.error_kind})" if source.failed else "ok"
        numbers = (source.seen, source.new, source.relevant, source.filed, source.duplicates)
        table.add_row(source.name, *map(str, numbers), str(source.errors), status)
    _out.print(table)
    if report.offline:
        failed = sum(source.offline for source in report.sources)
        _out.print(
            f"this machine seems offline: {failed} of {len(report.sources)} sources failed"
            f" with {report.offline}; they are polled again soon and not backed off for it",
            markup=False,
        )
    for source in report.sources:
        if source.error and not source.offline:
            _out.print(f"{source.name}: FAILED {source.error}", markup=False)
        for line in source.warnings:
            _out.print(f"{source.name}: warning: {line}", markup=False)
        for group in source.failure_groups():
            _out.print(f"{source.name}: {group}", markup=False)


def main() -> None:
    app()
