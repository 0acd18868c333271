"""Faults that are not the sources': the corpus folder going away, a bug in one source.

Each gives a clear message naming what failed, and nothing stored is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import feed_config, run_watcher, scalar, write_config
from tests.site import FeedItem, Site, article_html, recent, relevance_articles, rss
from watcher.config import Config, HttpConfig, SourceConfig, StorageConfig
from watcher.fetch.http import Fetcher
from watcher.pipeline import PassSettings, Pipeline
from watcher.relevance.classify import KeywordClassifier
from watcher.services.workers import WorkerPool
from watcher.store import EntryIndex, Store
from watcher.store.db import open_engine

RELEVANT = "eco20-2020-06-20-liaison-office"


def test_corpus_folder_lost_mid_pass_is_reported_and_repaired(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    page = article_html(article["title"], article["text"].splitlines()).encode()
    aside = tmp_path / "corpus-aside"

    def page_that_takes_the_folder(_request: Request) -> Response:
        seed_corpus.rename(aside)  # the folder disappears, a file stands in its place
        seed_corpus.write_text("not a folder")
        return Response(page, content_type="text/html; charset=utf-8")

    threaded_server.expect_request("/a").respond_with_handler(page_that_takes_the_folder)
    url = site.add_feed(
        "/feed.xml", rss([FeedItem(site.url("/a"), "A", guid="a", published=recent())])
    )
    config = feed_config(tmp_path, database_url=database_url, corpus=seed_corpus, feed=url)

    broken = run_watcher("fetch", config=config)

    assert broken.returncode == 2
    assert f"cannot use the corpus folder {seed_corpus}" in broken.stderr
    assert "Traceback" not in broken.stderr
    name = scalar(database_url, "SELECT file FROM items WHERE NOT is_seed")
    assert isinstance(name, str), "the article is stored, its file name allocated"

    seed_corpus.unlink()
    aside.rename(seed_corpus)
    repaired = run_watcher("fetch", config=config)

    assert repaired.returncode == 0, repaired.stderr
    body = (seed_corpus / name).read_text(encoding="utf-8")
    assert body.splitlines()[0] == article["title"]
    assert name in (seed_corpus / "manifest.jsonl").read_text(encoding="utf-8")


def test_corpus_path_that_is_a_file_is_a_clear_error(database_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.write_text("a file, not a folder")
    config = write_config(tmp_path / "w.toml", database_url=database_url, corpus=corpus, sources=[])
    for command in (("fetch",), ("items", "mark", "1", "relevant")):
        result = run_watcher(*command, config=config)
        assert result.returncode == 2, command
        assert f"cannot use the corpus folder {corpus}" in result.stderr
        assert "Traceback" not in result.stderr


class _BrokenFor(Store):
    """A real store whose lookup fails for one source, as a bug would."""

    def __init__(self, store: Store, broken_source: int) -> None:
        super().__init__(store.engine)
        self.broken_source = broken_source

    def entry_index(
        self, source_id: int, keys: Sequence[str], url_hashes: Sequence[str], now: datetime
    ) -> EntryIndex:
        if source_id == self.broken_source:
            raise RuntimeError("boom")
        return super().entry_index(source_id, keys, url_hashes, now)


def test_a_bug_in_one_source_does_not_stop_the_others(tmp_path: Path) -> None:
    feed = rss([FeedItem("https://a.example/story", "A story", guid="s", published=recent())])
    page = article_html("Parks", ["The council approved the parks budget on Tuesday evening."] * 12)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".xml"):
            return httpx.Response(
                200, content=feed, headers={"content-type": "application/rss+xml"}
            )
        return httpx.Response(200, text=page, headers={"content-type": "text/html"})

    sources = [
        SourceConfig(name="Broken", url="https://a.example/broken.xml"),
        SourceConfig(name="Fine", url="https://b.example/fine.xml"),
    ]
    config = Config(
        storage=StorageConfig(database_url=f"sqlite:///{tmp_path / 'w.db'}", corpus_dir=tmp_path),
        http=HttpConfig(per_host_delay=0),
        sources=sources,
    )
    real = Store(open_engine(config.storage.database_url))
    states = real.sync_sources(sources)

    async def go() -> list[str | None]:
        pool = WorkerPool(0)
        try:
            async with Fetcher(config.http, transport=httpx.MockTransport(handler)) as fetcher:
                store = _BrokenFor(real, states[sources[0].feed_url].id)
                pipeline = Pipeline(
                    PassSettings.of(config), store, fetcher, pool, KeywordClassifier(0.5)
                )
                report = await pipeline.run(sources)
                return [source.error for source in report.sources]
        finally:
            pool.close()

    errors = asyncio.run(go())
    real.close()
    assert errors[0] is not None
    assert "unexpected RuntimeError: boom" in errors[0]
    assert errors[1] is None, "the other source ran"
