"""The digest's cost: choosing, grouping and rendering a day's articles from a big store.

    python bench/digest.py [--shared ../shared] [--stored 100000] [--day 300]

A fresh SQLite store holds ``--stored`` articles from earlier days (texts from the
labelled relevance set, reused) and ``--day`` new ones since the last digest, a quarter
of them relevant and a tenth near misses, with copies found on a second source. Times
``build_digest`` (the queries), ``render`` (both templates) and ``compose`` (the MIME
message), and prints the message's size. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _shared import add_shared_option, shared_folder
from sqlalchemy import insert

from watcher.config import Config
from watcher.dedup.urls import url_hash
from watcher.delivery.digest import build_digest, compose, render
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.models import Entry, Item

_NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
_TIES = ("inter-korean", "russia-nk", "russia-sk")


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--day", type=int, default=300)
    args = parser.parse_args()
    texts = _texts(shared_folder(parser, args.shared, "eval/relevance") / "articles.jsonl")
    with tempfile.TemporaryDirectory() as folder:
        store = Store(open_engine(f"sqlite:///{folder}/bench.db"))
        started = time.perf_counter()
        _fill(store, texts, args.stored, args.day)
        print(
            f"stored {args.stored:,} + {args.day} articles in {time.perf_counter() - started:.1f} s"
        )
        config = Config.model_validate(
            {
                "storage": {"corpus_dir": folder},
                "digest": {"recipients": ["analyst@example.org"], "timezone": "Asia/Seoul"},
            }
        )
        _time(store, config)
        store.close()


def _texts(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [(row["title"], row["text"]) for row in rows if row.get("text")]


def _fill(store: Store, texts: list[tuple[str, str]], stored: int, day: int) -> None:
    rows = []
    for number in range(stored + day):
        title, body = texts[number % len(texts)]
        new = number >= stored
        kind = number % 10
        relevant = kind < 3 if new else kind == 0
        tie = _TIES[number % 3]
        score = 0.8 if relevant else (0.4 if kind == 3 else 0.05)
        rows.append(
            {
                "key": f"{number:016x}",
                "url": f"https://example.org/{number}",
                "title": title,
                "text": body,
                "text_hash": f"{number:064x}",
                "authors": ["A. Writer"],
                "fetched": _NOW - (timedelta(hours=3) if new else timedelta(days=2 + number % 300)),
                "published": _NOW - timedelta(days=1),
                "source_name": "Think tank",
                "relevant": relevant,
                "score": score,
                "labels": [tie] if relevant else [],
                "tie_scores": {tie: score},
                "evidence": [body[:200]],
                "is_seed": False,
            }
        )
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Item), rows[start : start + 5000])
    source = store.sync_manual_source("https://mirror.example.net/feed", "Mirror")
    copies = [
        {
            "source_id": source.id,
            "entry_key": f"copy-{number}",
            "link": f"https://mirror.example.net/{number}",
            "url_hash": url_hash(f"https://mirror.example.net/{number}"),
            "first_seen": _NOW,
            "state": "done",
            "outcome": "duplicate",
            "duplicate": True,
            "item_id": number + 1,
        }
        for number in range(stored, stored + day, 4)
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(Entry), copies)


def _time(store: Store, config: Config) -> None:
    builds, renders, composes = [], [], []
    for _ in range(5):
        started = time.perf_counter()
        digest = build_digest(store, config, recipient="analyst@example.org", now=_NOW)
        built = time.perf_counter()
        rendered = render(digest, config.digest.subject)
        drawn = time.perf_counter()
        message = compose(rendered, sender="w@example.org", recipient="a@example.org", now=_NOW)
        size = len(bytes(message))
        composes.append(time.perf_counter() - drawn)
        builds.append(built - started)
        renders.append(drawn - built)
    shown = sum(len(s.articles) for s in digest.sections)
    print(
        f"digest: {digest.count} articles ({shown} in full), "
        f"{len(digest.near_misses)} near misses, message {size / 1000:.0f} kB"
    )
    for name, samples in (("build", builds), ("render", renders), ("compose", composes)):
        print(f"{name:8} median {statistics.median(samples) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
