"""classify: verdicts on texts given, one JSON line each."""

from __future__ import annotations

from typing import Annotated

import typer

from watcher.cli._common import app, err, load_optional


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
    from watcher.relevance.classify import KeywordClassifier
    from watcher.relevance.classify_io import InputError, read_inputs, verdict_json

    config = load_optional(ctx)
    classifier = KeywordClassifier(config.classify.threshold, lexicon=config.lexicon())
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
