"""Server time of the review page's pages with many stored articles.

    python bench/web.py [--items 100000] [--postgres postgresql+psycopg://...] [--skip-sqlite]

Fills a throwaway database (SQLite in a temporary folder, and PostgreSQL when a URL is
given: a new database on that server, dropped after) with ``--items`` articles of made-up
text (a third relevant, ties and sources spread, a year of dates), then asks the app
in process (httpx over ASGI: the server's time, no network) for the inbox, a filtered
inbox, an article page and a search, 20 times each, and prints the median and the
slowest in milliseconds. The bar (issue 20): each at most 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, make_url, text

from watcher.config import Config, StorageConfig
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.models import Item
from watcher.web.app import WebContext, make_app
from watcher.web.metrics import Metrics

_TIES = ("inter-korean", "russia-nk", "russia-sk")
_TOPIC = tuple(
    " ".join(
        (
            "north korea south seoul pyongyang moscow russia treaty talks border missile drone",
            "sanctions trade envoy delegation ministry unification hotline military exercise",
            "alliance summit statement election budget festival weather market energy shipping",
            "북한 러시아 통일부 회담 협력 군사 평양 서울 대표단 제재",
        )
    ).split()
)
# Words by frequency as in real text (Zipf): a few very common, most rare; the beat's
# words among them, so a search word matches some articles, not all.
_VOCABULARY = [f"w{n}" for n in range(3000)]
for _rank, _word in enumerate(_TOPIC):
    _VOCABULARY.insert(20 + _rank * 40, _word)
_CUMULATIVE = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(_VOCABULARY))))
_REPEATS = 20
_BATCH = 2000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL to measure there too")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        if not args.skip_sqlite:
            _measure("sqlite", f"sqlite:///{folder}/web.db", corpus, args.items)
        if args.postgres:
            name = f"watcher_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name)
                _measure(
                    "postgresql", url.render_as_string(hide_password=False), corpus, args.items
                )
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def _measure(name: str, url: str, corpus: Path, count: int) -> None:
    engine = open_engine(url)
    started = time.perf_counter()
    _fill(engine, count)
    print(f"{name}: {count} articles stored in {time.perf_counter() - started:.0f} s", flush=True)
    store = Store(engine)
    config = Config(storage=StorageConfig(database_url=url, corpus_dir=corpus))
    app = make_app(WebContext(store, lambda: config, Metrics()))
    middle = count // 2
    paths = {
        "inbox": "/",
        "filtered inbox": "/?tie=russia-nk&source=Source+7&since=2026-03-01",
        "article": f"/items/{middle}",
        "search": "/search?q=hotline+delegation",
        "search (Korean)": "/search?q=통일부",
    }
    try:
        for page, path in paths.items():
            times = asyncio.run(_times(app, path))
            print(
                f"  {page:16s} median {statistics.median(times):6.1f} ms, "
                f"slowest {max(times):6.1f} ms",
                flush=True,
            )
    finally:
        store.close()


async def _times(app: object, path: str) -> list[float]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        first = await client.get(path)
        if first.status_code != 200:
            raise SystemExit(f"{path}: {first.status_code} {first.text[:200]}")
        times = []
        for _ in range(_REPEATS):
            started = time.perf_counter()
            await client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        return times


def _fill(engine: object, count: int) -> None:
    """In batches, each its own transaction, with the search index built once at the end
    (as a migration builds it) rather than article by article: that is hours at 100,000."""
    rng = random.Random(7)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with _search_index_after(engine):
        for first in range(0, count, _BATCH):
            numbers = range(first, min(count, first + _BATCH))
            rows = [_row(rng, number, start) for number in numbers]
            with engine.begin() as connection:  # type: ignore[attr-defined]
                connection.execute(insert(Item), rows)
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("ANALYZE"))


@contextlib.contextmanager
def _search_index_after(engine: Any) -> Iterator[None]:
    """SQLite: the trigger that indexes each new article is set aside, and the FTS table
    rebuilt from the articles after. PostgreSQL: the GIN index is dropped and made again."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            ddl = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_search'")
            ).scalar_one()
            connection.execute(text("DROP INDEX ix_items_search"))
        else:
            ddl = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'items_fts_insert'")
            ).scalar_one()
            connection.execute(text("DROP TRIGGER items_fts_insert"))
    yield
    with engine.begin() as connection:
        if not postgres:
            connection.execute(text("INSERT INTO items_fts(items_fts) VALUES ('rebuild')"))
        connection.execute(text(ddl))


def _row(rng: random.Random, number: int, start: datetime) -> dict[str, object]:
    words = rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=400)
    paragraphs = [" ".join(words[i : i + 40]) + "." for i in range(0, 400, 40)]
    relevant = rng.random() < 0.33
    labels = rng.sample(_TIES, rng.choice((1, 1, 2))) if relevant else []
    published = start - timedelta(minutes=rng.randrange(365 * 24 * 60))
    return {
        "key": f"{number:016x}",
        "url": f"https://site{number % 50}.example/a/{number}",
        "title": " ".join(rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=8)).capitalize(),
        "text": "\n".join(paragraphs),
        "text_hash": f"{number:064x}",
        "n_paragraphs": len(paragraphs),
        "authors": [],
        "published": published,
        "fetched": published + timedelta(hours=1),
        "language": "en",
        "source_name": f"Source {number % 50}",
        "relevant": relevant,
        "score": round(rng.random(), 4),
        "labels": labels,
        "evidence": [paragraphs[0][:200]],
        "tie_scores": {tie: round(rng.random(), 3) for tie in _TIES},
        "is_seed": False,
        "file_missing": False,
    }


if __name__ == "__main__":
    main()
