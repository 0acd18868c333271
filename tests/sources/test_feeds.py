"""The feed stage on real feeds, and the rules of entry identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.feed_table import COLUMNS, feed_files, read_expected, row
from tests.site import FeedItem, recent, rss
from watcher.sources.feeds import parse_feed

FEEDS = SHARED / "feeds"
_FILES = list(feed_files(FEEDS)) if FEEDS.is_dir() else []


def test_shared_feeds_present() -> None:
    """The table covers every feed in ../shared/feeds, and no feed is missing from it."""
    if not FEEDS.is_dir():
        pytest.skip(f"{FEEDS} is absent: the shared materials sit beside the checkout in CI")
    expected = read_expected()
    assert sorted(expected) == sorted(p.relative_to(FEEDS).as_posix() for p in _FILES)


@pytest.mark.parametrize("path", _FILES, ids=lambda p: p.relative_to(FEEDS).as_posix())
def test_feed_matches_committed_table(path: Path) -> None:
    """What each real feed yields is pinned: entry count, ill-formed flag, first entry."""
    got = dict(zip(COLUMNS, row(path, FEEDS), strict=True))
    want = dict(zip(COLUMNS, read_expected()[got["path"]], strict=True))
    assert got == want


def test_real_news_feeds_yield_entries_with_links() -> None:
    """Every real news snapshot parses to entries, each with an http(s) link."""
    news = FEEDS / "news"
    if not news.is_dir():
        pytest.skip(f"{news} is absent")
    empty = []
    for path in sorted(news.iterdir()):
        parsed = parse_feed(path.read_bytes(), url="http://feeds.example/news")
        if not parsed.entries:
            empty.append(path.name)
        assert all(entry.link.startswith(("http://", "https://")) for entry in parsed.entries)
    # The Daily Mail snapshot is a truncated document with no complete item.
    assert empty == ["feedreader-net_Rss20DailyMail.xml"]


def test_guid_is_the_key_when_unique() -> None:
    """Unique guids identify entries; a guid repeated in one feed falls back to the link."""
    items = [
        FeedItem("http://a.example/1?utm_source=x", "One", guid="same"),
        FeedItem("http://a.example/2", "Two", guid="same"),
        FeedItem("http://a.example/3", "Three", guid="unique"),
    ]
    parsed = parse_feed(rss(items), url="http://a.example/feed")
    assert [e.key for e in parsed.entries] == ["http://a.example/1", "http://a.example/2", "unique"]


def test_entries_without_links_are_reported_not_crashed_on() -> None:
    """An entry with no http(s) link is skipped with its title in the report."""
    body = rss([FeedItem("mailto:someone@example.org", "No link here", guid="x")])
    parsed = parse_feed(body, url="http://a.example/feed")
    assert parsed.entries == ()
    assert "No link here" in parsed.skipped[0]


def test_relative_links_resolve_against_the_feed_url() -> None:
    """A relative <link> is made absolute from where the feed was fetched."""
    parsed = parse_feed(
        rss([FeedItem("/story/7", "S", published=recent())]), url="https://b.example/rss"
    )
    assert parsed.entries[0].link == "https://b.example/story/7"
    assert parsed.entries[0].published is not None


def test_html_is_not_a_feed() -> None:
    """An HTML page parses to no version and no entries: the pipeline calls it not_a_feed."""
    parsed = parse_feed(b"<html><body><p>hello</p></body></html>", url="http://c.example/")
    assert parsed.version == ""
    assert parsed.entries == ()


def test_json_feed_items() -> None:
    """JSON Feed 1.1: ids, links, dates, authors and content are read."""
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": 7, "url": "/p/7", "title": "Seven", "date_published": "2026-11-01T10:00:00Z",'
        b' "authors": [{"name": "Kim"}], "content_html": "<p>Body text</p>"}]}'
    )
    parsed = parse_feed(
        body, url="https://j.example/feed.json", content_type="application/feed+json"
    )
    (entry,) = parsed.entries
    assert (parsed.version, entry.key, entry.link) == ("json11", "7", "https://j.example/p/7")
    assert entry.authors == ("Kim",)
    assert entry.published is not None
    assert entry.published.isoformat() == "2026-11-01T10:00:00+00:00"
    assert entry.content == "<p>Body text</p>"


def test_ttl_is_read_when_it_is_a_positive_number_of_minutes() -> None:
    channel = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>%s</channel></rss>'
    parsed = parse_feed(channel % b"<ttl>90</ttl>", url="http://a.example/feed")
    assert parsed.ttl_minutes == 90
    for bad in (b"", b"<ttl>0</ttl>", b"<ttl>soon</ttl>", b"<ttl>-5</ttl>"):
        assert parse_feed(channel % bad, url="http://a.example/feed").ttl_minutes is None
