"""items list | search | mark | reclassify: the stored articles and your corrections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from watcher.cli._common import (
    MARKUP,
    app,
    check_tie,
    database,
    fail,
    load,
    out,
    parse_date,
    writing_store,
)
from watcher.search import SearchQuery, parse_query

items_app = typer.Typer(
    rich_markup_mode=MARKUP, help="The stored articles: list them, correct their verdicts."
)
app.add_typer(items_app, name="items")


@items_app.command("list")
def items_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Not only the relevant.")] = False,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 30,
) -> None:
    """The newest articles with their score, verdict, ties, mark and file. The verdict
    and ties are yours where you marked the article, else the classifier's."""
    with database(load(ctx)) as store:  # it only reads: the corpus folder is the writers'
        items = store.list_items(relevant_only=not show_all, limit=limit)
    table = Table(title="watcher items", title_justify="left")
    for column in ("id", "score", "verdict", "labels", "mark", "file", "title"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            f"{item.score:.3f}",
            "relevant" if item.counts_as_relevant else "not relevant",
            ", ".join(item.ties),
            item.user_mark or "",
            item.file or "",
            item.title or item.url or "",
        )
    out.print(table)


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
    config = load(ctx)
    terms, phrases = parse_query(query)
    if not terms and not phrases:
        fail(f"watcher items search: no words to search for in {query!r}")
    check_tie(config, label)
    since_date = parse_date(since, "items search")
    wanted = SearchQuery(terms, phrases, label, source, since_date, limit)
    with database(config) as store:
        hits = store.search(wanted)
    if not hits:
        said = [*terms, *(f'"{" ".join(phrase)}"' for phrase in phrases)]
        out.print(f"nothing found for {' '.join(said)}", markup=False)
        raise typer.Exit(1)
    for hit in hits:
        day = f"{hit.published:%Y-%m-%d}" if hit.published else "undated"
        labels = ", ".join(hit.labels) or ("relevant" if hit.relevant else "not relevant")
        out.print(f"{hit.id}  {hit.title or hit.url}", markup=False, style="bold")
        out.print(f"    {hit.source or ''} · {day} · {labels} · {hit.url or ''}", markup=False)
        out.print(f"    {hit.snippet}", markup=False)


@items_app.command("mark")
def items_mark(
    ctx: typer.Context,
    id_or_url: Annotated[str, typer.Argument(help="Item number, corpus file name, or URL.")],
    mark: Annotated[str, typer.Argument(help="relevant or irrelevant")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="The tie it bears on (repeatable).")
    ] = None,
) -> None:
    """Record your judgement: it files or keeps the article, and teaches the classifier
    (the model is refitted, and the newest unmarked articles are scored again with it)."""
    from watcher.services.app import mark as record_mark

    config = load(ctx)
    with writing_store(config) as store:
        try:
            result, moved = record_mark(
                config, store, id_or_url, mark, label or [], datetime.now(UTC)
            )
        except (LookupError, ValueError) as exc:
            fail(f"watcher items mark: {exc.args[0]}")
    filed = f"; filed as {result.filed}" if result.filed else ""
    out.print(f"item {result.item.id} marked {mark}{filed}", markup=False)
    for other in moved.moved:
        now = "relevant" if other.relevant else "not relevant"
        out.print(f"  item {other.id} is now {now}: {other.title[:100]}", markup=False)
    if moved.filed:
        out.print(f"  filed: {', '.join(moved.filed)}", markup=False)


@items_app.command("reclassify")
def items_reclassify(ctx: typer.Context) -> None:
    """Re-score every stored article with the current configuration, model and marks."""
    from watcher.relevance.reclassify import reclassify
    from watcher.services.app import make_classifier

    config = load(ctx)
    with writing_store(config) as store:
        classifier = make_classifier(config, store)
        report = reclassify(
            store,
            config.storage.corpus_dir,
            classifier,
            datetime.now(UTC),
            file_all=config.storage.file_all,
        )
    out.print(
        f"reclassified {report.items} articles: {report.changed} verdicts changed "
        f"({report.now_relevant} now relevant, {report.no_longer_relevant} no longer); "
        f"{len(report.filed)} filed",
        markup=False,
    )
    for name in report.filed:
        out.print(f"filed {name}", markup=False)
