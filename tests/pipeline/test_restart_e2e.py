"""A pass killed with SIGKILL mid-way loses nothing and doubles nothing on restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import query, run_watcher, scalar, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss

IDS = [
    "eco20-2020-06-20-liaison-office",
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "eco25-2025-12-20-017",
]


def test_killed_pass_resumes_without_loss_or_doubles(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    articles = relevance_articles(IDS)
    pages = {
        article_id: article_html(
            articles[article_id]["title"], articles[article_id]["text"].splitlines()
        )
        for article_id in IDS
    }
    site.add_page(Page("/k/0", pages[IDS[0]].encode()))
    site.add_page(Page("/k/1", pages[IDS[1]].encode()))
    release = threading.Event()

    def stuck(_request: Request) -> Response:
        release.wait(timeout=60)
        return Response(pages[IDS[2]], content_type="text/html; charset=utf-8")

    threaded_server.expect_request("/k/2").respond_with_handler(stuck)
    items = [
        FeedItem(site.url(f"/k/{i}"), f"t{i}", guid=f"g{i}", published=recent()) for i in range(3)
    ]
    site.add_feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "K", "url": site.url("/feed.xml")}],
        http={"deadline": 120, "timeout": 120},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "fetch"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(seed_corpus.glob("00[5-9]_*.txt"))) < 2:
            assert process.poll() is None, "the pass ended before it was killed"
            assert time.monotonic() < deadline, "the first two articles were never filed"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole service, workers included
        process.wait(timeout=30)
        release.set()

    result = run_watcher("fetch", config=config)
    assert result.returncode == 0, result.stderr

    new_files = sorted(p for p in seed_corpus.glob("*.txt") if int(p.name[:3]) >= 5)
    assert [p.name[:3] for p in new_files] == ["005", "006", "007"]
    titles = sorted(p.read_text(encoding="utf-8").splitlines()[0] for p in new_files)
    assert titles == sorted(articles[i]["title"] for i in IDS), "each article once"
    states = [row[0] for row in query(database_url, "SELECT state FROM entries")]
    items = scalar(database_url, "SELECT count(*) FROM items WHERE NOT is_seed")
    assert sorted(states) == ["done", "done", "done"]
    assert items == 3
