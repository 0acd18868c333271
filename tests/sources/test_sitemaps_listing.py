"""Parsing feedless sources: sitemaps (index, urlset, news, text, gzip) and listing
pages; PDF reports' text. Pure functions on bytes written here."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from fpdf import FPDF

from watcher.config import SourceConfig
from watcher.extraction.page import Article, extract_page
from watcher.extraction.pdf import paragraphs
from watcher.sources.listing import matching, parse_listing
from watcher.sources.reading import MAX_SUB_SITEMAPS, children_to_read
from watcher.sources.sitemaps import SitemapLink, parse_sitemap, sitemap_feed

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def test_a_urlset_gives_pages_with_their_dates_and_news_titles() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
    <urlset {NS} {NEWS}>
      <url><loc>https://example.org/a</loc><lastmod>2026-11-20</lastmod></url>
      <url><loc> https://example.org/b </loc><lastmod>2026-11-21T10:00:00Z</lastmod>
        <news:news><news:title>Seoul &amp; Moscow</news:title>
        <news:publication_date>2026-11-21T09:30:00+09:00</news:publication_date></news:news>
      </url>
      <url><loc>ftp://example.org/c</loc></url>
      <url><loc>https://example.org/d</loc><lastmod>last tuesday</lastmod></url>
    </urlset>""".encode()

    sitemap = parse_sitemap(body, max_bytes=1_000_000)

    assert sitemap.problem is None
    assert [u.loc for u in sitemap.urls] == [
        "https://example.org/a",
        "https://example.org/b",
        "https://example.org/d",
    ]
    assert sitemap.urls[0].lastmod == datetime(2026, 11, 20, tzinfo=UTC)
    assert sitemap.urls[1].title == "Seoul & Moscow"
    assert sitemap.urls[1].published == datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    assert sitemap.urls[2].lastmod is None, "an unreadable date is no date"
    feed = sitemap_feed(list(sitemap.urls))
    assert feed.entries[1].published == sitemap.urls[1].published, "the news date first"


def test_an_index_gzip_and_a_text_sitemap() -> None:
    index = f"""<sitemapindex {NS}>
      <sitemap><loc>https://example.org/s1.xml.gz</loc><lastmod>2026-11-01</lastmod></sitemap>
      <sitemap><loc>https://example.org/s2.xml</loc></sitemap>
    </sitemapindex>""".encode()
    parsed = parse_sitemap(gzip.compress(index), max_bytes=100_000)
    assert parsed.is_index
    assert [c.loc for c in parsed.children] == [
        "https://example.org/s1.xml.gz",
        "https://example.org/s2.xml",
    ]
    text = parse_sitemap(b"https://example.org/x\n\nhttps://example.org/y\n", max_bytes=100)
    assert [u.loc for u in text.urls] == ["https://example.org/x", "https://example.org/y"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (gzip.compress(b"<urlset>" + b" " * 200_000 + b"</urlset>"), "larger than 100000 bytes"),
        (b"\x1f\x8b\x08garbage", "damaged gzip"),
        (b"<html><body>Not found</body></html>", "not a sitemap (the document is <html>)"),
        (b"just words, no links", "neither XML nor a list of URLs"),
    ],
)
def test_what_is_no_sitemap_says_why(body: bytes, problem: str) -> None:
    found = parse_sitemap(body, max_bytes=100_000)
    assert found.problem is not None
    assert found.problem.startswith(problem)
    assert found.urls == ()


def test_an_index_is_read_from_its_newest_and_changed_sub_sitemaps() -> None:
    def child(day: int | None) -> SitemapLink:
        lastmod = datetime(2026, 11, day, tzinfo=UTC) if day else None
        return SitemapLink(f"https://example.org/s{day}.xml", lastmod)

    children = [child(day) for day in range(1, 21)] + [child(None)]
    since = datetime(2026, 11, 18, tzinfo=UTC)
    assert [c.loc for c in children_to_read(children, since)] == [
        "https://example.org/s20.xml",
        "https://example.org/s19.xml",
        "https://example.org/s18.xml",
        "https://example.org/s17.xml",  # a day's slack: lastmod clocks are rough
        "https://example.org/sNone.xml",
    ]
    first = children_to_read(children, None)
    assert len(first) == MAX_SUB_SITEMAPS
    assert first[0].loc == "https://example.org/s20.xml"


LISTING = b"""<!doctype html><html><head><title>Analysis | Institute</title>
<base href="https://example.org/research/"></head><body>
<nav><a href="/about">About</a></nav>
<div class="teaser"><h2><a href="2026/seoul-moscow">Seoul and Moscow</a></h2></div>
<div class="teaser"><h2><a href="https://example.org/research/2026/pyongyang">
   Pyongyang  and the treaty</a></h2></div>
<div class="teaser"><h2><a href="2026/seoul-moscow#comments">Comments</a></h2></div>
<div class="teaser"><h2>No link here</h2></div>
<div class="teaser"><h2><a href="javascript:void(0)">Menu</a></h2></div>
<div class="teaser"><h2><a href="/events/2026/conference">An event</a></h2></div>
</body></html>"""


def test_a_listing_gives_the_selected_links_resolved_once_each() -> None:
    parsed = parse_listing(
        LISTING, url="https://example.org/list", content_type="text/html", selector=".teaser"
    )
    assert parsed.version == "listing"
    assert parsed.title == "Analysis | Institute"
    assert [(e.link, e.title) for e in parsed.entries] == [
        ("https://example.org/research/2026/seoul-moscow", "Seoul and Moscow"),
        ("https://example.org/research/2026/pyongyang", "Pyongyang and the treaty"),
        ("https://example.org/events/2026/conference", "An event"),
    ], "relative to <base>; the #comments link is the same page; no javascript:"
    assert len(parsed.skipped) == 2
    kept = matching(parsed.entries, r"/research/\d{4}/")
    assert [e.link.rsplit("/", 1)[1] for e in kept] == ["seoul-moscow", "pyongyang"]


def test_a_selector_that_matches_nothing_fails_the_listing() -> None:
    parsed = parse_listing(
        LISTING, url="https://example.org/list", content_type=None, selector="article.card a"
    )
    assert parsed.version == ""
    assert parsed.problem == "the selector 'article.card a' matched nothing"


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ({"kind": "listing"}, "needs a selector"),
        ({"kind": "listing", "selector": "div[[["}, "not a CSS selector"),
        ({"selector": "a"}, "for listing sources only"),
        ({"url_pattern": "(unclosed"}, "not a regular expression"),
        ({"kind": "sitemap", "fetch_page": False}, "for feed sources only"),
    ],
)
def test_source_kind_options_are_checked(table: dict[str, object], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        SourceConfig.model_validate({"name": "S", "url": "https://example.org/x", **table})


def test_a_pdf_report_is_read_as_an_article() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.set_title("Seoul and Moscow after the treaty")
    pdf.set_author("Kim Analyst")
    first = "Russia and South Korea have kept a channel open since the treaty. " * 6
    pdf.multi_cell(0, 5, first.strip())
    pdf.ln()
    pdf.multi_cell(0, 5, ("Trade between Seoul and Moscow fell by a third. " * 5).strip())

    article = extract_page(bytes(pdf.output()), "application/pdf", "https://example.org/r.pdf")

    assert isinstance(article, Article)
    assert article.title == "Seoul and Moscow after the treaty"
    assert article.authors == ("Kim Analyst",)
    lines = article.text.splitlines()
    assert len(lines) == 2, "visual lines joined back into the two paragraphs"
    assert lines[0].startswith("Russia and South Korea have kept a channel open")
    assert lines[1].endswith("fell by a third.")


def test_a_pdf_without_text_and_a_damaged_pdf_fail_with_their_reason() -> None:
    blank = FPDF()
    blank.add_page()
    empty = extract_page(bytes(blank.output()), "application/pdf", "https://example.org/s.pdf")
    damaged = extract_page(b"%PDF-1.7\nnot really", None, "https://example.org/d.pdf")
    assert not isinstance(empty, Article)
    assert "no text layer" in empty.reason
    assert not isinstance(damaged, Article)
    assert damaged.kind == "extract_error"


def test_lines_become_paragraphs() -> None:
    lines = [
        "A first paragraph that runs over",
        "two lines of the page and ends.",
        "",
        "Co-",
        "operation across the inter-",
        "Korean border.",
    ]
    assert paragraphs(lines) == [
        "A first paragraph that runs over two lines of the page and ends.",
        "Cooperation across the inter-Korean border.",
    ]
