"""`watcher fetch` end to end: a real HTTP server, real pages, a real database, the CLI
run as a user runs it. These are the tests that say the vertical slice works."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import manifest_rows, query, read_page, run_watcher, shared_path, write_config
from tests.site import (
    FeedItem,
    Page,
    Site,
    article_html,
    korea_related_pages,
    paragraphs_of,
    recent,
    relevance_articles,
    rss,
    seed_paragraphs,
)
from watcher.config import load_config
from watcher.fetch.http import Fetcher
from watcher.pipeline import PassSettings, Pipeline
from watcher.report import PassReport
from watcher.services.app import make_classifier, open_store
from watcher.services.workers import WorkerPool

FILE_NAME = re.compile(r"^(\d{3,})_([0-9a-f]{16})\.txt$")
# Labelled relevant in eval/relevance (en, ko, ru, en): they must reach the corpus.
RELEVANT_IDS = [
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "baram-028_0002783531",
    "aif-2018-01-38",
    "eco20-2020-06-20-liaison-office",
]


def _corpus_files(folder: Path) -> dict[str, str]:
    return {
        p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if FILE_NAME.match(p.name)
    }


def _beat_config(site: Site, corpus: Path, database_url: str, tmp_path: Path) -> Path:
    """A configuration with the beat site's feed as its one source."""
    return write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=corpus,
        sources=[{"name": "Beat", "url": site.url("/feed.xml"), "max_age_days": 30}],
    )


@pytest.fixture
def beat_site(httpserver: HTTPServer, seed_corpus: Path) -> tuple[Site, list[FeedItem]]:
    """Real pages on the beat behind one feed: labelled articles (served in their own
    charsets), the korea-related pages, and one seed republished under a new URL."""
    shared_path("pages", "korea-related")
    site = Site(httpserver)
    items: list[FeedItem] = []
    articles = relevance_articles(RELEVANT_IDS)
    charsets = {"ko": "euc-kr", "ru": "windows-1251"}
    for article_id in RELEVANT_IDS:
        article = articles[article_id]
        charset = charsets.get(article["lang"], "utf-8")
        page = article_html(
            article["title"], paragraphs_of(article["text"]), charset=charset, lang=article["lang"]
        )
        # Korean served without a charset in the header: the <meta> must be honoured.
        header = "text/html" if charset == "euc-kr" else f"text/html; charset={charset}"
        path = f"/analysis/{article_id}"
        site.add_page(Page(path, page.encode(charset, errors="replace"), header))
        link = site.url(path) + "?utm_source=rss&utm_medium=feed"
        items.append(FeedItem(link, article["title"], guid=f"id-{article_id}", published=recent()))
    for slug, path in korea_related_pages():
        site.add_page(Page(f"/pages/{slug}", read_page(path), "text/html"))
        items.append(FeedItem(site.url(f"/pages/{slug}"), slug, guid=slug, published=recent()))
    seed = sorted(seed_corpus.glob("*.txt"))[2]
    republished = article_html("Republished analysis", seed_paragraphs(seed)[1:])
    site.add_page(Page("/syndicated/seed-copy", republished.encode()))
    items.append(
        FeedItem(site.url("/syndicated/seed-copy") + "?fbclid=abc", "Republished", guid="copy")
    )
    site.add_feed("/feed.xml", rss(items))
    return site, items


def test_fetch_files_relevant_articles_and_second_pass_is_a_no_op(
    beat_site: tuple[Site, list[FeedItem]], seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """First pass files what is relevant, correctly named; the second downloads no page."""
    site, items = beat_site
    config = _beat_config(site, seed_corpus, database_url, tmp_path)
    seeds_before = _corpus_files(seed_corpus)

    first = run_watcher("fetch", config=config)
    assert first.returncode == 0, first.stderr
    assert "Beat" in first.stdout

    files = _corpus_files(seed_corpus)
    new_files = {name: body for name, body in files.items() if name not in seeds_before}
    assert all(files[name] == body for name, body in seeds_before.items()), "a seed changed"
    numbers = sorted(int(FILE_NAME.match(name).group(1)) for name in new_files)  # type: ignore[union-attr]
    assert numbers == list(range(5, 5 + len(new_files))), "numbers are max + 1, no gaps"

    manifest = manifest_rows(seed_corpus)
    assert [row["file"] for row in manifest] == sorted(files)
    by_file = {row["file"]: row for row in manifest}
    for name in seeds_before:
        assert by_file[name]["url"] is None
    for name, body in new_files.items():
        row = by_file[name]
        url = str(row["url"])
        assert name.split("_")[1] == hashlib.sha256(url.encode()).hexdigest()[:16] + ".txt"
        assert "utm_" not in url
        assert row["relevant"] is True, row
        assert row["labels"], row
        assert body.splitlines()[0] == row["title"]
        assert len(body.splitlines()) >= 2, "title line, then the paragraphs"

    filed_urls = {str(row["url"]) for row in manifest if row["url"]}
    for article_id in RELEVANT_IDS:
        assert site.url(f"/analysis/{article_id}") in filed_urls, article_id
    korean = next(b for n, b in new_files.items() if "노동신문" in b)
    assert "통일부" in korean, "EUC-KR page decoded"

    entries = query(database_url, "SELECT state, outcome, duplicate FROM entries")
    assert len(entries) == len(items), "every entry recorded"
    relevant_items = query(
        database_url, "SELECT file FROM items WHERE relevant AND NOT is_seed ORDER BY file"
    )
    assert sorted(str(r[0]) for r in relevant_items) == sorted(new_files)
    copy = query(
        database_url,
        "SELECT e.duplicate, i.is_seed FROM entries e JOIN items i ON i.id = e.item_id "
        "WHERE e.link LIKE '%seed-copy%'",
    )
    assert copy == [(True, True)], "the republished seed is a duplicate of the seed"
    assert any(str(site.url("/syndicated/seed-copy")) in row["duplicates"] for row in manifest)  # type: ignore[operator]

    pages_first = site.requests_to("/analysis/") + site.requests_to("/pages/")
    assert len(pages_first) == len(RELEVANT_IDS) + len(korea_related_pages())

    second = run_watcher("fetch", config=config)
    assert second.returncode == 0, second.stderr
    pages_second = site.requests_to("/analysis/") + site.requests_to("/pages/")
    assert pages_second == pages_first, "the second pass downloaded a page again"
    feed_statuses = [resp.status_code for req, resp in site.server.log if req.path == "/feed.xml"]
    assert feed_statuses == [200, 304]
    assert _corpus_files(seed_corpus) == files
    assert manifest_rows(seed_corpus) == manifest


def test_a_verbose_pass_says_where_its_time_went(
    beat_site: tuple[Site, list[FeedItem]], seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """`watcher -v fetch` logs the seconds of each stage: start-up, feeds, pages,
    analysis, settle, files and the manifest (waits summed over what was in flight)."""
    site, _items = beat_site
    config = _beat_config(site, seed_corpus, database_url, tmp_path)

    done = run_watcher("-v", "fetch", config=config)

    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    [times] = [event["seconds"] for event in events if event["event"] == "pass_times"]
    stages = ["start-up", "feeds", "pages", "analysis", "settle", "files", "manifest"]
    assert sorted(times) == sorted(stages)
    assert all(seconds > 0 for seconds in times.values()), times


def test_a_pass_in_a_long_running_process_leaves_no_thread_behind(
    beat_site: tuple[Site, list[FeedItem]], seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Articles are settled on a thread of the pass's own: the daemon runs a pass an
    hour for months and may hold its pipeline, so the thread ends with the pass, not
    when the pipeline is collected."""
    site, _items = beat_site
    config = load_config(_beat_config(site, seed_corpus, database_url, tmp_path), environ={})

    async def one_pass() -> tuple[Pipeline, PassReport]:
        store, pool = open_store(config), WorkerPool(0)
        try:
            async with Fetcher(config.http) as fetcher:
                classifier = make_classifier(config, store)
                pipeline = Pipeline(PassSettings.of(config), store, fetcher, pool, classifier)
                return pipeline, await pipeline.run(config.sources)
        finally:
            pool.close()
            store.close()

    _held, report = asyncio.run(one_pass())

    assert sum(source.filed for source in report.sources) > 0, "articles were settled"
    # The pipeline is still held (`_held`), as a daemon may hold one: only closing ends
    # the thread.
    assert not [t.name for t in threading.enumerate() if t.name.startswith("watcher-settle")]
