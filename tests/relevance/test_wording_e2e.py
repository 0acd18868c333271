"""The wording's second opinion in a real pass: pages over HTTP, analysis workers that
load the encoder (into an empty cache folder, at once), verdicts in SQLite and
PostgreSQL that say when the wording weighed in."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import feed_config, query, run_watcher
from tests.relevance.test_wording import SURE_TEXT, UNSURE_TEXT
from tests.site import FeedItem, Page, Site, article_html, recent, rss
from watcher.relevance.classify import KeywordClassifier

_NOTE = "(unsure from the evidence alone; its wording scores "


def test_a_pass_reads_the_wording_of_unsure_articles_only(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    items = []
    for path, (title, text) in (("/a/unsure", UNSURE_TEXT), ("/a/sure", SURE_TEXT)):
        paragraphs = [p.strip() + "." for p in text.split(". ") if p.strip()]
        link = site.add_page(Page(path, article_html(title, paragraphs).encode()))
        items.append(FeedItem(link, title, published=recent()))
    url = site.add_feed("/feed.xml", rss(items))
    config = feed_config(tmp_path, database_url=database_url, corpus=seed_corpus, feed=url)
    cache = tmp_path / "cache"
    done = run_watcher("fetch", config=config, env={"XDG_CACHE_HOME": str(cache)})
    assert done.returncode == 0, done.stderr

    rows = query(database_url, "SELECT url, title, text, score, evidence FROM items")
    stored = {str(url).rsplit("/", 1)[-1]: row for url, *row in rows if url}
    assert set(stored) == {"unsure", "sure"}
    classifier = KeywordClassifier()
    for name, (title, text, score, evidence) in stored.items():
        notes = [e for e in _evidence(evidence) if e.startswith(_NOTE)]
        assert len(notes) == (1 if name == "unsure" else 0), name
        here = classifier.classify(str(title), str(text), "en")
        assert float(str(score)) == here.score, "the workers' verdict is this process's"
    written = list((cache / "watcher").iterdir())
    assert [path.suffix for path in written] == [".pickle"], "kept once, no partial file"


def _evidence(value: object) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)  # type: ignore[call-overload]
