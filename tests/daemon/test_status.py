"""``watcher status`` on the single-machine deployment: sources due, the oldest of them,
entries waiting, and no queue (the queue's part is in test_scale_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import run_watcher, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, rss

DEADLINE = 120.0


def _status(config: Path, *args: str) -> str:
    result = run_watcher("status", *args, config=config, timeout=DEADLINE)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_tells_what_is_due_and_what_waits(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    link = site.add_page(Page("/a", article_html("A", ["Some text of an article."] * 5).encode()))
    httpserver.expect_request("/gone").respond_with_response(Response(status=503))
    failing = FeedItem(site.url("/gone"), "Gone for now", published=recent())
    feed = site.add_feed("/feed.xml", rss([FeedItem(link, "A", published=recent()), failing]))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": feed}, {"name": "Other", "url": feed + "?b"}],
    )

    before = json.loads(_status(config, "--json"))
    assert run_watcher("fetch", "--source", "Institute", config=config).returncode == 0
    after = json.loads(_status(config, "--json"))
    text = _status(config)

    assert before["sources"] == 2
    assert before["due"] == 2, "never polled: due"
    assert before["queue"] is None
    assert before["oldest_due"] == "Institute", "never polled: the first configured"
    assert after["due"] == 1, "the polled source waits for its next poll"
    assert after["oldest_due"] == "Other"
    assert after["entries_waiting"] == 1, "the failed page: tried again at the next pass"
    assert "sources: 2, due now: 1 (oldest: Other)" in text
    assert "queue: none" in text
