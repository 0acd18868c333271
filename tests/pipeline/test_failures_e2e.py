"""Faults seen through `watcher fetch`: each broken source is reported with its name and
cause, the others go on, and nothing transient is written off."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import run_watcher, scalar, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss

RELEVANT = "eco20-2020-06-20-liaison-office"
OTHER_RELEVANT = "pen0-2024-12-04-north-korean-troops-in-russia"


def _article_page(site: Site, article_id: str, path: str) -> str:
    article = relevance_articles([article_id])[article_id]
    lines = [line for line in article["text"].splitlines() if line.strip()]
    return site.add_page(Page(path, article_html(article["title"], lines).encode()))


def _good_feed(site: Site) -> str:
    link = _article_page(site, RELEVANT, "/good/article")
    return site.add_feed(
        "/good/feed.xml", rss([FeedItem(link, "Good", guid="g1", published=recent())])
    )


def _drip(_request: Request) -> Response:
    def body() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        for _ in range(60):
            time.sleep(0.25)
            yield b" "

    return Response(body(), content_type="application/rss+xml")


def test_broken_sources_are_reported_and_the_others_processed(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Timeout, 500, HTML instead of a feed, an oversized body and a gzip bomb: each is
    named with its cause; the good source still files its article."""
    site = Site(threaded_server)
    good = _good_feed(site)
    threaded_server.expect_request("/slow.xml").respond_with_handler(_drip)
    threaded_server.expect_request("/error.xml").respond_with_data("boom", status=500)
    site.add_page(Page("/html.xml", b"<html><body><p>Not a feed</p></body></html>"))
    threaded_server.expect_request("/huge.xml").respond_with_data(
        b"<rss>" + b"x" * 300_000, content_type="application/rss+xml"
    )
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000)
    threaded_server.expect_request("/bomb.xml").respond_with_data(
        bomb, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    sources = [
        {"name": "Good", "url": good},
        {"name": "Slow", "url": site.url("/slow.xml")},
        {"name": "Error", "url": site.url("/error.xml")},
        {"name": "Html", "url": site.url("/html.xml")},
        {"name": "Huge", "url": site.url("/huge.xml")},
        {"name": "Bomb", "url": site.url("/bomb.xml")},
    ]
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=sources,
        http={"max_bytes": 200_000, "deadline": 2},
    )

    result = run_watcher("fetch", config=config)

    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if "FAILED " in line}
    assert "timeout" in lines["Slow"]
    assert "http_5xx" in lines["Error"]
    assert "HTTP 500" in lines["Error"]
    assert "not_a_feed" in lines["Html"]
    assert "too_large" in lines["Huge"]
    assert "too_large" in lines["Bomb"]
    assert "Good" not in lines
    assert len(list(seed_corpus.glob("005_*.txt"))) == 1, "the good source's article is filed"
    kinds = scalar(
        database_url,
        "SELECT count(*) FROM sources"
        " WHERE consecutive_failures = 1 AND last_error_kind IS NOT NULL",
    )
    assert kinds == 5


def test_every_source_failing_exits_1(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Exit code 1 when no source could be polled at all."""
    threaded_server.expect_request("/error.xml").respond_with_data("boom", status=503)
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Error", "url": threaded_server.url_for("/error.xml")}],
    )
    result = run_watcher("fetch", config=config)
    assert result.returncode == 1
    assert "http_5xx" in result.stdout


def test_page_failing_once_is_fetched_again_and_filed(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A 503 on an article page is retried on the next pass, then filed."""
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    page = article_html(article["title"], article["text"].splitlines()).encode()
    calls: list[int] = []

    def flaky(_request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            return Response("busy", status=503)
        return Response(page, content_type="text/html; charset=utf-8")

    threaded_server.expect_request("/flaky").respond_with_handler(flaky)
    site.add_feed(
        "/feed.xml", rss([FeedItem(site.url("/flaky"), "Flaky", guid="f", published=recent())])
    )
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Flaky", "url": site.url("/feed.xml")}],
    )

    first = run_watcher("fetch", config=config)
    assert first.returncode == 0, first.stderr
    assert "http_5xx" in first.stdout
    assert not list(seed_corpus.glob("005_*.txt"))
    assert scalar(database_url, "SELECT state FROM entries") == "failed"

    second = run_watcher("fetch", config=config)
    assert second.returncode == 0, second.stderr
    assert len(calls) == 2
    assert len(list(seed_corpus.glob("005_*.txt"))) == 1
    assert scalar(database_url, "SELECT state FROM entries") == "done"


def test_rotating_guids_file_nothing_new(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A feed that mints new guids on every request is not refiled on the next pass."""
    site = Site(threaded_server)
    links = [_article_page(site, RELEVANT, "/r/one"), _article_page(site, OTHER_RELEVANT, "/r/two")]
    polls: list[int] = []

    def feed() -> bytes:
        polls.append(1)
        return rss(
            [FeedItem(link, "t", guid=f"{link}#{len(polls)}", published=recent()) for link in links]
        )

    site.add_feed("/feed.xml", feed)
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Rotating", "url": site.url("/feed.xml")}],
    )
    assert run_watcher("fetch", config=config).returncode == 0
    files = sorted(p.name for p in seed_corpus.glob("*.txt"))
    assert len(files) == 7

    assert run_watcher("fetch", config=config).returncode == 0
    assert len(polls) == 2, "the feed changed, so it was downloaded and parsed again"
    assert sorted(p.name for p in seed_corpus.glob("*.txt")) == files
    assert len(site.requests_to("/r/")) == 2, "no page downloaded twice"
    assert scalar(database_url, "SELECT count(*) FROM entries") == 2


def test_first_poll_records_old_entries_without_filing(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Entries older than max_age_days on a source's first poll are recorded, not fetched."""
    site = Site(threaded_server)
    old = _article_page(site, RELEVANT, "/old")
    new = _article_page(site, OTHER_RELEVANT, "/new")
    items = [
        FeedItem(old, "Old", guid="o", published=recent(90)),
        FeedItem(new, "New", guid="n", published=recent()),
    ]
    site.add_feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Archive", "url": site.url("/feed.xml"), "max_age_days": 30}],
    )
    assert run_watcher("fetch", config=config).returncode == 0
    assert site.requests_to("/old") == []
    assert site.requests_to("/new") == ["/new"]
    assert scalar(database_url, "SELECT outcome FROM entries WHERE guid = 'o'") == "too_old"
    assert len(list(seed_corpus.glob("005_*.txt"))) == 1


def test_fetch_single_url_and_archive_mode(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """`--url` fetches one article; file_all files an off-topic one with its verdict."""
    site = Site(threaded_server)
    paragraphs = [
        "The city council approved a new budget for public parks and libraries on Tuesday.",
        "Residents asked for longer opening hours at the central library and more benches.",
        "The mayor said the plan would be reviewed again after the summer holidays end.",
    ] * 8
    url = site.add_page(Page("/parks", article_html("Parks budget approved", paragraphs).encode()))
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[],
        storage={"file_all": True},
    )

    result = run_watcher("fetch", "--url", url, config=config)

    assert result.returncode == 0, result.stderr
    filed = list(seed_corpus.glob("005_*.txt"))
    assert len(filed) == 1
    assert filed[0].read_text().splitlines()[0] == "Parks budget approved"
    assert scalar(database_url, "SELECT relevant FROM items WHERE NOT is_seed") in (False, 0)
