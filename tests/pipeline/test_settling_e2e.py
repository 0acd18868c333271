"""Settling on more than one thread: on PostgreSQL a pass settles two articles at once
under the key locks, and copies of one article still make one item."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

from tests.conftest import query, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, rss
from watcher.config import load_config
from watcher.dedup.neardup import Fingerprint, Passage
from watcher.fetch.http import Fetcher
from watcher.pipeline import PassSettings, Pipeline
from watcher.services.app import make_classifier, open_store
from watcher.services.workers import WorkerPool
from watcher.store import Match, Store

ARTICLES = 4
COPIES = 3
_WORDS = [
    "ministry",
    "delegation",
    "harbour",
    "railway",
    "budget",
    "treaty",
    "envoy",
    "summit",
    "grain",
    "fishery",
    "border",
    "bridge",
    "pipeline",
    "tariff",
    "satellite",
    "ferry",
    "sanctions",
    "election",
    "parliament",
    "reservoir",
    "province",
    "archive",
    "currency",
    "customs",
    "festival",
    "airline",
    "garrison",
    "shipyard",
    "vaccine",
]


def _paragraphs(seed: int) -> list[str]:
    """Six paragraphs of prose of its own for article ``seed`` (no two articles alike)."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(_WORDS) + f"{rng.randrange(1000)}" for _ in range(45)) + "."
        for _ in range(6)
    ]


def _site(httpserver: HTTPServer) -> Site:
    """ARTICLES articles, each at COPIES addresses, listed so that two copies of one
    article follow each other and so do two different articles (a1 a2 b1 b2 ... a3 b3)."""
    site = Site(httpserver)
    order = [(a, c) for a in range(ARTICLES) for c in (0, 1)]
    order += [(a, c) for c in range(2, COPIES) for a in range(ARTICLES)]
    items = []
    for article, copy in order:
        title = f"Article {article}"
        body = article_html(title, _paragraphs(article)).encode()
        link = site.add_page(Page(f"/site{copy}/article-{article}", body))
        items.append(FeedItem(link, title, guid=f"{copy}-{article}", published=recent()))
    site.add_feed("/feed.xml", rss(items))
    return site


class _Watched:
    """The store's lookup of an original, slowed a little and watched: which threads
    ran it, how many at once, and how many for one text at once."""

    def __init__(self, store: Store) -> None:
        self._find = store.find_match
        self._lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.threads: set[str] = set()
        self._texts: Counter[str] = Counter()
        self.most_of_one_text = 0

    def find_match(
        self, url_hashes: Sequence[str], fingerprint: Fingerprint, passage: Passage | None = None
    ) -> Match | None:
        text = fingerprint.text_hash
        with self._lock:
            self.inside += 1
            self._texts[text] += 1
            self.most = max(self.most, self.inside)
            self.most_of_one_text = max(self.most_of_one_text, self._texts[text])
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.05)
            return self._find(url_hashes, fingerprint, passage)
        finally:
            with self._lock:
                self.inside -= 1
                self._texts[text] -= 1


def _pass(config_path: Path) -> tuple[_Watched, Any]:
    config = load_config(config_path, environ={})

    async def one_pass() -> tuple[_Watched, Any]:
        store, pool = open_store(config), WorkerPool(0)
        watched = _Watched(store)
        store.find_match = watched.find_match  # type: ignore[method-assign]
        try:
            async with Fetcher(config.http) as fetcher:
                pipeline = Pipeline(
                    PassSettings.of(config),
                    store,
                    fetcher,
                    pool,
                    make_classifier(config, store),
                    settle_lock=store.settle_lock(),
                )
                return watched, await pipeline.run(config.sources)
        finally:
            pool.close()
            store.close()

    return asyncio.run(one_pass())


def test_copies_settled_side_by_side_are_one_item_each(
    httpserver: HTTPServer, database_url: str, tmp_path: Path
) -> None:
    site = _site(httpserver)
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=tmp_path / "corpus",
        sources=[{"name": "Copies", "url": site.url("/feed.xml"), "max_age_days": 30}],
        storage={"file_all": True},
    )

    watched, report = _pass(config)

    [source] = report.sources
    assert source.failed == 0, source
    postgresql = database_url.startswith("postgresql")
    # Two articles at once under the key locks on PostgreSQL; one thread on SQLite.
    assert watched.most == (2 if postgresql else 1), watched.most
    assert len(watched.threads) == (2 if postgresql else 1), watched.threads
    assert watched.most_of_one_text == 1, "two copies of one article were checked at once"
    items = query(database_url, "SELECT id, title FROM items WHERE NOT is_seed ORDER BY title")
    assert [title for _id, title in items] == [f"Article {n}" for n in range(ARTICLES)]
    entries = query(database_url, "SELECT item_id, duplicate FROM entries")
    assert len(entries) == ARTICLES * COPIES
    for item_id, _title in items:
        mine = [duplicate for found, duplicate in entries if found == item_id]
        assert sorted(mine) == [False] + [True] * (COPIES - 1), (item_id, mine)
    files = sorted(p.name for p in (tmp_path / "corpus").glob("*.txt"))
    assert len(files) == ARTICLES, files
