"""digest: preview the digest, or send it now."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watcher.cli._common import app, database, err, fail, load, out, parse_date, run_async

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.store import Store


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
    config = load(ctx)
    if send and (preview is not None or since is not None):
        fail("watcher digest: --send takes neither --preview nor --since")
    with database(config) as store:
        if send:
            raise typer.Exit(_send_digests(config, store))
        since_at = parse_date(since, "digest", config.digest.zone())
        _preview_digest(config, store, preview or "-", since_at)


def _preview_digest(config: Config, store: Store, target: str, since: datetime | None) -> None:
    from watcher.corpus import write_atomically
    from watcher.delivery.digest import build_digest, render

    recipient = config.digest.recipients[0] if config.digest.recipients else None
    made = build_digest(store, config, recipient=recipient, now=datetime.now(UTC), since=since)
    rendered = render(made, config.digest.subject)
    if target == "-":
        sys.stdout.write(rendered.text)
        return
    try:
        write_atomically(Path(target), rendered.html)
    except OSError as exc:
        fail(f"watcher digest: cannot write {target}: {exc.strerror or exc}")
    err.print(f"digest preview ({made.count} articles) written to {target}", markup=False)


def _send_digests(config: Config, store: Store) -> int:
    from watcher.delivery.digest import deliver_digests, last_send_time

    if not config.digest.recipients:
        err.print("watcher digest: no recipients: set [digest] recipients", markup=False)
        return 2
    now = datetime.now(UTC)
    slot = last_send_time(now, config.digest.send_at, config.digest.zone())
    outcomes = run_async(deliver_digests(store, config, now=now, slot=slot))
    for outcome in outcomes:
        counts = f"{outcome.items} articles, {outcome.near_misses} near misses"
        if outcome.status == "sent":
            out.print(f"{outcome.recipient}: sent ({counts}) {outcome.message_id}", markup=False)
        elif outcome.status == "empty":
            out.print(f"{outcome.recipient}: nothing new, nothing sent", markup=False)
        else:
            out.print(
                f"{outcome.recipient}: NOT SENT: {outcome.error}; its {counts} wait "
                "for the next digest",
                markup=False,
            )
    return 1 if any(o.status == "failed" for o in outcomes) else 0
