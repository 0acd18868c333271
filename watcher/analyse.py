"""The pure, CPU-bound stages, as the worker processes run them: a page extracted,
fingerprinted and classified; a feed parsed.

This is what the worker processes run. It imports only those stages, so a worker
starts without the database, HTTP and scheduling code it never uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from watcher.dedup.neardup import Fingerprint, NearDupRule, Passage
from watcher.extraction.page import Article, ExtractFailed, extract_page
from watcher.relevance.classify import Classifier, KeywordClassifier, Verdict
from watcher.relevance.model import load_model
from watcher.services.workers import Shared
from watcher.sources.feeds import ParsedFeed, parse_feed
from watcher.sources.listing import parse_listing
from watcher.sources.sitemaps import Sitemap, parse_sitemap

__all__ = [
    "Analysed",
    "analyse",
    "parse_feed_in_worker",
    "parse_listing_in_worker",
    "parse_sitemap_in_worker",
    "warm_up",
]

# A page and a feed of our own for ``warm_up``: every stage has something to do.
_WARM_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Talks resume | Institute"
    "</title><meta name=author content='Jane Roe'><meta property='article:published_time'"
    " content='2026-01-05'></head><body><nav><a href=/>Home</a></nav><article><h1>Talks"
    " resume</h1>"
    + "<p>Seoul and Pyongyang agreed to reopen the liaison office, while Moscow and Pyongyang"
    " discussed the treaty they signed in June 2024. South Korea's ministry said so.</p>"
    * 6
    + "</article><footer>Copyright</footer></body></html>"
).encode()
_WARM_FEED = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>a</title>"
    b"<link>http://example.org/a</link><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate>"
    b"</item></channel></rss>"
)


@dataclass(frozen=True, slots=True)
class Analysed:
    """What the pure stages make of one page: the article, its fingerprints, its verdict."""

    article: Article
    fingerprint: Fingerprint
    verdict: Verdict
    passage: Passage  # for the partial-copy rule: its shingles in order, title, ending


def analyse(
    body: bytes,
    content_type: str | None,
    url: str,
    feed_content: str | None,
    feed_title: str | None,
    language: str | None,
    classifier: Shared[Classifier],
    near: NearDupRule,
    source_name: str | None = None,
) -> Analysed | ExtractFailed:
    """Extract, fingerprint and classify one page. Pure: runs in a worker process."""
    sites = (source_name,) if source_name else ()
    article = extract_page(body, content_type, url, feed_content, feed_title, sites)
    if isinstance(article, ExtractFailed):
        return article
    verdict = classifier.get().classify(article.title, article.text, article.language or language)
    fingerprint, passage = near.read(article.text, article.title)
    return Analysed(article, fingerprint, verdict, passage)


def warm_up() -> Article:
    """One small page extracted, classified and fingerprinted, and one feed parsed, in a
    new worker before its first real page: the first call of each stage compiles patterns
    and fills caches (about 55 ms of a fresh process's first page), paid here while the
    coordinator opens the database and reads the feeds. Returns the page's article.

    The wording's encoder is left out: loading it costs each worker 0.14 s of CPU and
    125 MB, and only an article the forest is unsure of needs it (none of the extraction
    benchmark's 181 pages), so the first such article loads it."""
    article = extract_page(_WARM_PAGE, "text/html; charset=utf-8", "http://example.org/warm")
    if isinstance(article, ExtractFailed):
        raise RuntimeError(f"the warm-up page was not extracted: {article.reason}")
    without_wording = KeywordClassifier(model=replace(load_model(), wording=None))
    without_wording.classify(article.title, article.text, article.language)
    NearDupRule().read(article.text, article.title)
    parse_feed(_WARM_FEED, url="http://example.org/feed", content_type="application/rss+xml")
    return article


def parse_feed_in_worker(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """A feed's bytes parsed (feedparser is pure CPU work, like extraction)."""
    return parse_feed(body, url=url, content_type=content_type)


def parse_sitemap_in_worker(body: bytes, max_bytes: int) -> Sitemap:
    """A sitemap's bytes parsed (a news sitemap may list thousands of URLs)."""
    return parse_sitemap(body, max_bytes=max_bytes)


def parse_listing_in_worker(
    body: bytes, url: str, content_type: str | None, selector: str
) -> ParsedFeed:
    """A listing page's article links, picked by the source's CSS selector."""
    return parse_listing(body, url=url, content_type=content_type, selector=selector)
