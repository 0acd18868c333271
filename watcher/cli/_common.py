"""What every command shares: the app, the consoles, the configuration, one way to fail
with a message and an exit code, and the store opened and closed around a command.

The configuration, the database and the stages are imported where a command uses them,
so that ``watcher --help`` and a mistyped command answer at once."""

from __future__ import annotations

import logging
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

import typer
from rich.console import Console

from watcher.errors import ConfigError, StoreError
from watcher.services.logs import configure_logging

if TYPE_CHECKING:
    from watcher.config import Config, SourceConfig
    from watcher.dedup.neardup import NearDupRule
    from watcher.store import Store

__all__ = [
    "MARKUP",
    "State",
    "app",
    "check_tie",
    "corpus_error",
    "database",
    "err",
    "fail",
    "load",
    "load_optional",
    "out",
    "parse_date",
    "run_async",
    "select_sources",
    "when",
    "writing_store",
]

# Docstrings are wrapped at 100 columns in the source; markdown joins their lines, so
# the terminal wraps whole sentences (rich mode kept the source's line breaks).
MARKUP: Literal["markdown"] = "markdown"

app = typer.Typer(
    name="watcher",
    help="Follow inter-Korean and Russia-Korea analysis into a text corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
)
# Piped output (a file, grep, a cron mail) gets wide tables: rich would assume 80
# columns and wrap every cell.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per message


@dataclass(frozen=True)
class State:
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
    from watcher.config import config_path_from_env

    configure_logging(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = State(config_path_from_env(config))


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, with asyncio imported only by a command that runs a coroutine:
    ``--help`` and ``items list`` do not, and its import is 60 ms of theirs."""
    import asyncio

    return asyncio.run(coroutine)


def fail(message: str, code: int = 2) -> NoReturn:
    """Say what went wrong on stderr and exit with ``code`` (2: usage, configuration,
    database or corpus folder; 1: the command ran and found nothing or failed)."""
    err.print(message, markup=False)
    raise typer.Exit(code)


def load(ctx: typer.Context) -> Config:
    from watcher.config import load_config

    state: State = ctx.obj
    try:
        return load_config(state.config_path)
    except ConfigError as exc:
        fail(f"watcher: {exc}")


def load_optional(ctx: typer.Context) -> Config:
    """The configuration if one was named or the default file exists; else defaults."""
    from watcher.config import DEFAULT_CONFIG_PATH, Config

    state: State = ctx.obj
    if state.config_path == DEFAULT_CONFIG_PATH and not state.config_path.exists():
        return Config()
    return load(ctx)


@contextmanager
def database(config: Config) -> Iterator[Store]:
    """The database alone, for commands that only read it (the corpus folder is left to
    the writers, which hold its lock); closed after the command."""
    from watcher.store import Store
    from watcher.store.db import open_engine

    def rule() -> NearDupRule:  # made only if the command compares texts
        from watcher.dedup.neardup import NearDupRule

        return NearDupRule.of(config.dedup)

    try:
        store = Store(open_engine(config.storage.database_url), rule)
    except StoreError as exc:
        fail(f"watcher: {exc}")
    try:
        yield store
    finally:
        store.close()


@contextmanager
def writing_store(config: Config) -> Iterator[Store]:
    """The store with the corpus folder it files into (seeds fingerprinted, unwritten
    files written), for commands that may file; closed after the command. A corpus
    folder that cannot be used is said as such."""
    from watcher.services.app import open_store

    try:
        store = open_store(config)
    except StoreError as exc:
        fail(f"watcher: {exc}")
    except OSError as exc:
        corpus_error(config, exc)
    try:
        yield store
    except OSError as exc:
        corpus_error(config, exc)
    finally:
        store.close()


def corpus_error(config: Config, exc: OSError) -> NoReturn:
    """The corpus folder cannot be used: say which and why, without a traceback."""
    where = exc.filename or config.storage.corpus_dir
    fail(
        f"watcher: cannot use the corpus folder {config.storage.corpus_dir}: "
        f"{exc.strerror or exc} ({where}); stored articles are kept and their files "
        "are written once the folder can be used"
    )


def check_tie(config: Config, label: str | None) -> None:
    if label is not None and label not in config.lexicon().names:
        fail(f"watcher: unknown tie {label!r}; known: {', '.join(config.lexicon().names)}")


def parse_date(value: str | None, command: str, zone: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date or time from the command line; one without an offset is in
    ``zone`` (the digest's time zone for the digest, else UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"watcher {command}: {value!r} is not an ISO 8601 date or time")
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def select_sources(config: Config, names: list[str], have_urls: bool) -> list[SourceConfig]:
    """The named sources (all, without names, unless URLs were given instead)."""
    if not names:
        return [] if have_urls else list(config.sources)
    by_name = {s.name: s for s in config.sources}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(repr(n) for n in by_name) or "(none configured)"
        fail(f"watcher: unknown source {', '.join(map(repr, unknown))}; known: {known}")
    return [by_name[name] for name in names]


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""
