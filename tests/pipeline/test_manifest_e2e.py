"""The manifest across a long-running process's passes: rewritten when a line of it
changes, left alone when nothing did (a daemon's usual pass), on SQLite and PostgreSQL,
with the pages served over HTTP."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import feed_config, manifest_by_file
from tests.site import FeedItem, Page, Site, article_html, article_items, paragraphs_of, rss
from tests.site import relevance_articles as labelled
from watcher.config import Config, load_config
from watcher.corpus import MANIFEST
from watcher.fetch.http import Fetcher
from watcher.pipeline import PassSettings, Pipeline
from watcher.services.app import make_classifier, open_store
from watcher.services.workers import WorkerPool
from watcher.store import Store

RELEVANT = ["pen0-2024-12-04-north-korean-troops-in-russia", "aif-2018-01-38"]


def _stamp(path: Path) -> tuple[int, int]:
    """The file's inode and modification time: an atomic rewrite changes both."""
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


async def _passes(config: Config, store: Store, between: list[object]) -> list[tuple[int, int]]:
    """Passes on one store, as the daemon runs them; before each, the next step of
    ``between`` (a callable) is run. Returns the manifest's stamp after each pass."""
    stamps = []
    pool = WorkerPool(0)
    try:
        for step in between:
            if callable(step):
                step()
            async with Fetcher(config.http) as fetcher:
                classifier = make_classifier(config, store)
                pipeline = Pipeline(PassSettings.of(config), store, fetcher, pool, classifier)
                await pipeline.run(config.sources)
            stamps.append(_stamp(config.storage.corpus_dir / MANIFEST))
    finally:
        pool.close()
    return stamps


def test_a_pass_rewrites_the_manifest_only_when_a_line_of_it_changed(
    httpserver: HTTPServer, tmp_path: Path, database_url: str
) -> None:
    site = Site(httpserver)
    items: list[FeedItem] = article_items(site, "/analysis", RELEVANT)
    feed = site.add_feed("/feed.xml", lambda: rss(items))
    corpus = tmp_path / "corpus"
    path = feed_config(tmp_path, database_url=database_url, corpus=corpus, feed=feed)
    config = load_config(path, environ={})
    article = labelled(RELEVANT[:1])[RELEVANT[0]]
    copy = article_html(article["title"], paragraphs_of(article["text"]))
    copy_url = site.add_page(Page("/mirror/troops", copy.encode()))

    def syndicated() -> None:  # the first article again, on a mirror: a copy, no new file
        items.append(FeedItem(copy_url, article["title"], guid="mirror"))

    def deleted() -> None:
        (corpus / MANIFEST).unlink()

    store = open_store(config)
    try:
        stamps = asyncio.run(_passes(config, store, [None, None, syndicated, None, deleted]))
    finally:
        store.close()

    filed, quiet, copied, quiet_again, restored = stamps
    assert quiet == filed, "a pass that found nothing rewrote the manifest"
    assert copied != quiet, "a copy found changes a line, and the manifest was not rewritten"
    assert quiet_again == copied
    assert restored != copied, "a manifest the user deleted was not written again"
    rows = manifest_by_file(corpus)
    assert len(rows) == len(RELEVANT), rows
    assert [row["duplicates"] for row in rows.values() if row["duplicates"]] == [[copy_url]]
    assert not [name for name in os.listdir(corpus) if name.startswith(".")], "temporary left"
