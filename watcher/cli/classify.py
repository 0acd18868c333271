"""classify: verdicts on texts given, one JSON line each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watcher.cli._common import app, database, err, load_optional

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.relevance.classify import KeywordClassifier


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
    shipped: Annotated[
        bool,
        typer.Option("--shipped", help="The shipped model alone: leave your marks out."),
    ] = False,
) -> None:
    """Classify texts: one JSON line per input on stdout (id, relevant, score, labels,
    evidence). JSON Lines objects carry id, title, text and optionally lang.

    Where the configured database exists, the verdicts are the pipeline's: the model
    your marks refitted, and their pull on similar articles (``--shipped`` leaves them
    out). Without one, the shipped model's."""
    from watcher.relevance.classify_io import InputError, read_inputs, verdict_json

    config = load_optional(ctx)
    classifier = _classifier(config, shipped)
    failed = 0
    for source in paths or ["-"]:
        for item in read_inputs(source, jsonl=jsonl):
            if isinstance(item, InputError):
                err.print(f"watcher classify: {item}", markup=False)
                failed += 1
                continue
            verdict = classifier.classify(item.title, item.text, item.language)
            print(verdict_json(item.id, verdict), flush=False)  # machine output: no rich
    raise typer.Exit(1 if failed else 0)


def _classifier(config: Config, shipped: bool) -> KeywordClassifier:
    from watcher.relevance.classify import KeywordClassifier
    from watcher.services.app import make_classifier

    if shipped or not _database_exists(config.storage.database_url):
        return KeywordClassifier(config.classify.threshold, lexicon=config.lexicon())
    with database(config) as store:
        return make_classifier(config, store)


def _database_exists(url: str) -> bool:
    """A SQLite file that is not there is not created for a classification."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and Path(parsed.database or "").exists()
