"""Search speed: ``watcher items search`` over a large archive, SQLite and PostgreSQL.

    python bench/search.py [--shared ../shared] [--items 20000] [--postgres URL]

Fills a fresh database with ``--items`` articles (the labelled relevance set's texts,
repeated under distinct URLs, so English, Korean and Russian words occur as they do in
the beat), then times five queries (the median of 5 runs each): a common English word,
a rare one, a Korean word with a particle, a Russian word in another case, and two words
together. ``--postgres`` names a server database to use as well (a throwaway one: its
tables are dropped first). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime

from _shared import add_shared_option, shared_folder
from sqlalchemy import insert, text

from watcher.search import SearchQuery, search_terms
from watcher.store import Store
from watcher.store.db import open_engine
from watcher.store.models import Item

QUERIES = ["Korea", "Krivoruchko", "북한은", "России", "liaison office"]


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--postgres", help="a throwaway PostgreSQL database URL")
    args = parser.parse_args()
    path = shared_folder(parser, args.shared, "eval/relevance") / "articles.jsonl"
    with path.open(encoding="utf-8") as handle:
        texts = [(row["title"], row["text"]) for row in map(json.loads, handle) if row["text"]]
    with tempfile.TemporaryDirectory() as folder:
        urls = [f"sqlite:///{folder}/search.db"] + ([args.postgres] if args.postgres else [])
        for url in urls:
            _bench(url, texts, args.items)


def _bench(url: str, texts: list[tuple[str, str]], count: int) -> None:
    if url.startswith("postgresql"):
        engine = open_engine(url, migrate=False)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    store = Store(open_engine(url))
    started = time.perf_counter()
    rows = [
        {
            "key": f"{number:016x}",
            "url": f"https://example.org/{number}",
            "title": texts[number % len(texts)][0],
            "text": texts[number % len(texts)][1],
            "text_hash": f"{number:064x}",
            "fetched": datetime(2026, 11, 1, tzinfo=UTC),
            "is_seed": False,
            "authors": [],
            "labels": [],
            "evidence": [],
            "tie_scores": {},
        }
        for number in range(count)
    ]
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            connection.execute(insert(Item), rows[start : start + 2000])
    loaded = time.perf_counter() - started
    print(f"{store.engine.dialect.name}: {count:,} articles indexed in {loaded:.1f} s")
    for query in QUERIES:
        timings, hits = [], 0
        for _ in range(5):
            begin = time.perf_counter()
            hits = len(store.search(SearchQuery(search_terms(query), limit=20)))
            timings.append(time.perf_counter() - begin)
        median = statistics.median(timings) * 1000
        print(f"  {query!r:16} {median:7.1f} ms  ({hits} shown)")
    store.close()


if __name__ == "__main__":
    main()
