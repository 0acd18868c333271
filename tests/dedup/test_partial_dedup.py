"""Partial copies: an excerpt or a teaser of a stored article is that article, whichever
arrives first; a roundup, a quotation, a part 2, a shared disclaimer or a rewritten wire
story is not. The rule on built pairs, then end to end through `watcher fetch`."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import (
    SHARED,
    manifest_rows,
    query,
    run_watcher,
    shared_path,
    text_item,
    write_config,
)
from tests.partial import Doc, Pair, articles_for_pairs, partial_pairs
from tests.site import FeedItem, Page, Site, article_html, recent, rss
from watcher.dedup.neardup import NearDupRule, is_teaser, own_content, similar_titles
from watcher.store import Store
from watcher.store.db import open_engine

RULE = NearDupRule()


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    shared_path("eval", "relevance", "articles.jsonl")
    return partial_pairs(articles_for_pairs(SHARED, 24))


def _said(first: Doc, second: Doc) -> bool:
    """Whether a store holding ``first`` takes ``second`` for the same article (as a
    copy, or as the full text of the excerpt it holds)."""
    store = Store(open_engine("sqlite://"))
    try:
        store.add_item(text_item("https://a.example/1", first.text, title=first.title))
        fingerprint = store.dedup.fingerprint(second.text)
        passage = store.dedup.passage(second.text, second.title)
        return store.find_match([], fingerprint, passage) is not None
    finally:
        store.close()


def test_partial_copies_are_caught_and_look_alikes_kept_apart(pairs: list[Pair]) -> None:
    wrong: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for pair in pairs:
        for first, second in ((pair.full, pair.part), (pair.part, pair.full)):
            total[pair.kind] += 1
            if _said(first, second) != pair.duplicate:
                wrong[pair.kind] += 1
    positives = sum(n for kind, n in total.items() if "excerpt" in kind or "teaser" in kind)
    missed = sum(n for kind, n in wrong.items() if "excerpt" in kind or "teaser" in kind)
    false_alarms = sum(wrong.values()) - missed
    assert false_alarms == 0, dict(wrong)
    assert missed <= 0.05 * positives, dict(wrong)


def test_the_order_of_arrival_says_which_text_is_the_article(pairs: list[Pair]) -> None:
    pair = next(p for p in pairs if p.kind == "excerpt, continue line, new title")
    store = Store(open_engine("sqlite://"))
    try:
        excerpt = store.add_item(text_item("https://b.example/x", pair.part.text, title="P"))
        fuller = store.find_match(
            [], RULE.fingerprint(pair.full.text), RULE.passage(pair.full.text, pair.full.title)
        )
        assert fuller is not None
        assert (fuller.item_id, fuller.fuller) == (excerpt, True)
        assert store.find_original([], RULE.fingerprint(pair.full.text)) is None
    finally:
        store.close()


def test_what_an_excerpt_says_of_itself() -> None:
    assert is_teaser("First paragraph.\nContinue reading at 38north.org")
    assert is_teaser("First paragraph.\nRead the full analysis on csis.org")
    assert is_teaser("첫 문단이다.\n기사 원문 보기")
    assert is_teaser("The talks stalled when the delegation …")
    assert not is_teaser("A whole article.\nIts author is a fellow at the institute")
    assert own_content("One.\nContinue reading at x.org\nTwo.") == "One.\nTwo."
    assert similar_titles("Seoul and Moscow reopen a hotline", "Seoul, Moscow reopen hotline")
    assert not similar_titles("Seoul and Moscow reopen a hotline", "This week's reading")


def test_the_full_text_wins_whichever_arrives_first(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, pairs: list[Pair]
) -> None:
    """Site A publishes an excerpt of analysis X before the institute's feed carries X;
    X arrives at the next pass. Analysis Y arrives whole first, its teaser after."""
    x = next(p for p in pairs if p.kind == "excerpt, continue line, new title")
    y = next(p for p in pairs[20:] if p.kind == "teaser, read-full line")
    site = Site(httpserver)
    pages = {
        "/partner/x": x.part,
        "/institute/x": x.full,
        "/institute/y": y.full,
        "/aggregator/y": y.part,
    }
    for path, doc in pages.items():
        site.add_page(Page(path, article_html(doc.title, doc.text.splitlines()).encode()))
    partner: list[FeedItem] = []
    institute: list[FeedItem] = []
    site.add_feed("/partner.xml", lambda: rss(partner))
    site.add_feed("/institute.xml", lambda: rss(institute))
    sources = [
        {"name": "Partner", "url": site.url("/partner.xml")},
        {"name": "Institute", "url": site.url("/institute.xml")},
    ]
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=sources,
        storage={"file_all": True},
        tables={"digest": {"recipients": ["analyst@example.org"]}},
    )

    partner.append(FeedItem(site.url("/partner/x"), x.part.title, guid="px", published=recent()))
    institute.append(FeedItem(site.url("/institute/y"), y.full.title, guid="y", published=recent()))
    assert run_watcher("fetch", config=config).returncode == 0
    institute.append(FeedItem(site.url("/institute/x"), x.full.title, guid="x", published=recent()))
    partner.append(FeedItem(site.url("/aggregator/y"), y.part.title, guid="py", published=recent()))
    second = run_watcher("fetch", config=config)
    digest = run_watcher("digest", "--preview", "-", "--since", "2000-01-01", config=config)

    assert second.returncode == 0, second.stderr
    rows = {str(row["url"]): row for row in manifest_rows(seed_corpus) if row["url"]}
    full_x, part_x = rows[site.url("/institute/x")], rows[site.url("/partner/x")]
    assert part_x["copy_of"] == full_x["file"], "the excerpt filed first names its article"
    assert site.url("/partner/x") in full_x["duplicates"]  # type: ignore[operator]
    assert "copy_of" not in full_x
    assert site.url("/aggregator/y") not in rows, "the teaser after the article is not filed"
    assert site.url("/aggregator/y") in rows[site.url("/institute/y")]["duplicates"]  # type: ignore[operator]
    excerpt_link = site.url("/partner/x")
    aliases = query(
        database_url,
        "SELECT i.url FROM url_aliases a JOIN items i ON i.id = a.item_id"
        f" WHERE a.url_hash IN (SELECT url_hash FROM entries WHERE link = '{excerpt_link}')",
    )
    assert aliases == [(site.url("/institute/x"),)], "the excerpt's URL leads to the article"
    assert digest.stdout.count(x.full.title) == 1, digest.stdout
    assert x.part.title not in digest.stdout
    also = [line for line in digest.stdout.splitlines() if "Also at:" in line]
    assert any(site.url("/partner/x") in line for line in also), digest.stdout
    assert any(site.url("/aggregator/y") in line for line in also), digest.stdout
