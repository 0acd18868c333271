"""A hostile server: one source per fault, all in one pass, beside a good source.

Each fault ends in its kind, the good source is processed as usual, and every failing
source is given a later poll (backoff), never dropped. Size caps are asserted in
tests/pipeline/test_failures_e2e.py and tests/fetch/test_http.py (bytes read, not process memory).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import query, run_watcher, shared_path, write_config
from tests.services import aware
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss

GOOD = "eco20-2020-06-20-liaison-office"
DEADLINE = 3  # seconds per request in this test's configuration


@pytest.fixture
def resetting_port() -> Iterator[int]:
    """A port whose connections are reset (RST) as soon as they are accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_every_fault_is_classified_and_the_good_source_goes_on(
    threaded_server: HTTPServer,
    resetting_port: int,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    shared_path("eval", "relevance", "articles.jsonl")
    site = Site(threaded_server)
    article = relevance_articles([GOOD])[GOOD]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    link = site.add_page(Page("/good/a", article_html(article["title"], paragraphs).encode()))
    good = site.add_feed("/good.xml", rss([FeedItem(link, "A", guid="a", published=recent())]))

    def slow_headers(_request: Request) -> Response:
        time.sleep(DEADLINE + 2)
        return Response("<rss/>", content_type="application/rss+xml")

    serve = threaded_server.expect_request
    serve("/slow-headers.xml").respond_with_handler(slow_headers)
    # A short Retry-After: the host's other sources wait for it within the pass (a long
    # one fails them fast instead: tests/fetch/test_http.py).
    serve("/unavailable.xml").respond_with_data("busy", 503, headers={"Retry-After": "2"})
    serve("/rate-limited.xml").respond_with_data("slow down", 429)
    serve("/missing.xml").respond_with_data("gone", 404)
    serve("/loop.xml").respond_with_data("", 302, headers={"Location": "/loop.xml"})
    elsewhere = site.url("/x.xml").replace("127.0.0.1", "127.0.0.2")
    serve("/private.xml").respond_with_data("", 302, headers={"Location": elsewhere})
    serve("/malformed.xml").respond_with_data(
        b"<?xml version='1.0'?><rss><channel><item><title>broken", 200
    )
    serve("/empty.xml").respond_with_data(b"", 200, content_type="application/rss+xml")
    wrong_charset = rss([FeedItem(link + "?c=1", "Caf\u00e9 \u00fcber", guid="c")])
    serve("/charset.xml").respond_with_data(
        wrong_charset.replace(b'encoding="utf-8"', b'encoding="koi8-r"'),
        content_type="application/rss+xml; charset=windows-1251",
    )
    faults = {
        "Slow headers": (site.url("/slow-headers.xml"), "timeout"),
        "Reset": (f"http://127.0.0.1:{resetting_port}/feed.xml", "connect"),
        "Unavailable": (site.url("/unavailable.xml"), "http_5xx"),
        "Rate limited": (site.url("/rate-limited.xml"), "rate_limited"),
        "Missing": (site.url("/missing.xml"), "http_4xx"),
        "Redirect loop": (site.url("/loop.xml"), "redirect"),
        "Redirect to 127.0.0.2": (site.url("/private.xml"), "blocked"),
        "Malformed": (site.url("/malformed.xml"), "parse_error"),
        "Empty": (site.url("/empty.xml"), "not_a_feed"),
    }
    sources = [{"name": name, "url": url} for name, (url, _kind) in faults.items()]
    sources += [{"name": "Good", "url": good}, {"name": "Charset", "url": site.url("/charset.xml")}]
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=sources,
        http={"allowed_networks": ["127.0.0.1/32"], "deadline": DEADLINE, "timeout": DEADLINE},
    )

    result = run_watcher("fetch", config=config, timeout=120)

    assert result.returncode == 0, result.stderr
    rows = query(
        database_url,
        "SELECT name, last_error_kind, consecutive_failures, next_poll_at FROM sources",
    )
    state = {name: (kind, failures, aware(at)) for name, kind, failures, at in rows}
    now = datetime.now(UTC)
    for name, (_url, kind) in faults.items():
        assert state[name][:2] == (kind, 1), name
        assert state[name][2] > now, f"{name}: polled again later, not dropped"
        assert f"{name}: FAILED {kind}" in result.stdout
    assert state["Good"][:2] == (None, 0)
    assert state["Charset"][:2] == (None, 0), "a wrong charset is no reason to fail"
    assert len(list(seed_corpus.glob("00[5-9]_*.txt"))) == 1, "the good article filed"
