"""Sources without a usable feed, end to end: ``watcher fetch`` over HTTP against pages
written here (sitemaps, a listing page, a full-text feed, a PDF report, a feed with a
gap and a sitemap to fill it), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fpdf import FPDF
from pytest_httpserver import HTTPServer

from tests.conftest import query, run_watcher, shared_path, write_config
from tests.site import FeedItem, Page, Site, article_html, relevance_articles, rss

ARTICLES = [
    "eco20-2020-06-20-liaison-office",
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "kcna-2024-07-19-113",
    "kcna-2024-08-16-470",
    "baram-044_0000278407",
    "kcna-2024-09-19-1129",
    "kcna-2024-09-22-1186",
    "kcna-2024-10-30-1867",
]
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _pages(site: Site, paths: list[str]) -> list[str]:
    """Real article pages at these paths (texts from the labelled set), their URLs."""
    shared_path("eval", "relevance", "articles.jsonl")
    texts = relevance_articles(ARTICLES)
    urls = []
    for number, path in enumerate(paths):
        article = texts[ARTICLES[number % len(ARTICLES)]]
        paragraphs = [line for line in article["text"].splitlines() if line.strip()]
        title = f"{article['title']} ({number})"
        body = article_html(title, [*paragraphs, f"Page {path}."]).encode()
        urls.append(site.add_page(Page(path, body)))
    return urls


def _urlset(entries: list[tuple[str, datetime | None]], news: bool = False) -> bytes:
    rows = []
    for url, when in entries:
        date = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
        if news and when:
            date = (
                f"<news:news><news:title>News</news:title><news:publication_date>"
                f"{when.isoformat()}</news:publication_date></news:news>"
            )
        rows.append(f"<url><loc>{url}</loc>{date}</url>")
    return f'<?xml version="1.0"?><urlset {NS} {NEWS}>{"".join(rows)}</urlset>'.encode()


def _outcomes(database_url: str) -> dict[str, object]:
    rows = query(database_url, "SELECT link, outcome, state FROM entries")
    return {str(link).rsplit("/", 1)[1]: outcome or state for link, outcome, state in rows}


def _fetch(config: Path) -> str:
    done = run_watcher("fetch", config=config)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_sitemap_index_with_gzipped_and_news_sitemaps(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    now = datetime.now(UTC)
    recent, old = now - timedelta(days=1), now - timedelta(days=400)
    paths = ["/analysis/a1", "/analysis/a2", "/analysis/old", "/analysis/undated", "/tags/x"]
    urls = _pages(site, [*paths, "/analysis/a3"])
    listed = [(urls[1], recent), (urls[2], old), (urls[3], None), (urls[4], recent)]
    changed = [recent]  # the gzipped sub-sitemap's lastmod in the index

    news = _urlset([(urls[0], recent)], news=True)
    site.add_feed("/news-sitemap.xml", news, "application/xml")
    site.add_feed("/sitemap-1.xml.gz", lambda: gzip.compress(_urlset(listed)), "application/gzip")

    def index() -> bytes:
        children = [("/news-sitemap.xml", recent), ("/sitemap-1.xml.gz", changed[0])]
        rows = "".join(
            f"<sitemap><loc>{site.url(path)}</loc><lastmod>{when.isoformat()}</lastmod></sitemap>"
            for path, when in children
        )
        return f'<?xml version="1.0"?><sitemapindex {NS}>{rows}</sitemapindex>'.encode()

    sitemap = site.add_feed("/sitemap.xml", index, "application/xml")
    source = {"name": "Institute", "url": sitemap, "kind": "sitemap", "url_pattern": "/analysis/"}
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=seed_corpus, sources=[source]
    )

    _fetch(config)

    outcomes = _outcomes(database_url)
    assert sorted(outcomes) == ["a1", "a2", "old", "undated"], "/tags/ is no article"
    assert (outcomes["old"], outcomes["undated"]) == ("too_old", "too_old"), "the archive"
    assert {outcomes["a1"], outcomes["a2"]} <= {"filed", "recorded"}
    assert sorted(site.requests_to("/analysis/")) == ["/analysis/a1", "/analysis/a2"]

    # a page is added to the gzipped sub-sitemap, which the index says has changed
    listed.append((urls[5], now))
    changed[0] = now
    _fetch(config)

    assert _outcomes(database_url)["a3"] in {"filed", "recorded"}
    assert sorted(site.requests_to("/analysis/")) == [
        "/analysis/a1",
        "/analysis/a2",
        "/analysis/a3",
    ]
    assert site.requests_to("/news-sitemap.xml") == ["/news-sitemap.xml"], "unchanged: not again"


def test_a_listing_page_with_relative_links(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    _pages(site, ["/research/2026/one", "/research/2026/two", "/events/2026/party"])
    links = ["one", "two"]

    def listing() -> bytes:
        cards = "".join(
            f'<div class="card"><h3><a href="2026/{name}">Title {name}</a></h3></div>'
            for name in links
        )
        party = '<div class="card"><a href="/events/2026/party">Party</a></div>'
        return f"<html><body><main>{cards}{party}</main></body></html>".encode()

    url = site.add_feed("/research/", listing, "text/html; charset=utf-8")
    source = {
        "name": "Listing",
        "url": url,
        "kind": "listing",
        "selector": "main .card",
        "url_pattern": "/research/",
    }
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=seed_corpus, sources=[source]
    )

    _fetch(config)
    assert sorted(_outcomes(database_url)) == ["one", "two"]

    _pages(site, ["/research/2026/three"])
    links.append("three")
    _fetch(config)
    assert sorted(_outcomes(database_url)) == ["one", "three", "two"]
    assert sorted(site.requests_to("/research/2026/")) == [
        "/research/2026/one",
        "/research/2026/three",
        "/research/2026/two",
    ], "each page fetched once"

    broken = {**source, "selector": "article.teaser a"}  # after a redesign
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=seed_corpus, sources=[broken]
    )
    links.append("four")
    failed = run_watcher("fetch", config=config)
    assert failed.returncode == 1, "its only source failed"
    assert "parse_error" in failed.stdout
    assert "matched nothing" in failed.stdout


def test_a_full_text_feed_need_not_fetch_its_pages_and_a_summary_feed_always_does(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    shared_path("eval", "relevance", "articles.jsonl")
    texts = relevance_articles(ARTICLES[:2])
    now = datetime.now(UTC)
    full, summary = (texts[ARTICLES[0]], texts[ARTICLES[1]])
    full_html = "".join(f"<p>{line}</p>" for line in full["text"].splitlines() if line.strip())
    _pages(site, ["/full", "/summary"])
    items = [
        FeedItem(site.url("/full"), full["title"], guid="f", published=now, description=full_html),
        FeedItem(
            site.url("/summary"), summary["title"], guid="s", published=now, description="Short."
        ),
    ]
    feed = site.add_feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Full", "url": feed, "fetch_page": False}],
    )

    _fetch(config)

    assert site.requests_to("/full") == [], "the feed carried the article"
    assert site.requests_to("/summary") == ["/summary"], "a summary is not the article"
    texts_stored = dict(query(database_url, "SELECT url, text FROM items WHERE NOT is_seed"))
    stored = texts_stored[site.url("/full")]
    assert "liaison office" in str(stored)


def _pdf_report(text: str, title: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.set_title(title)
    for paragraph in text.splitlines():
        if paragraph.strip():
            safe = paragraph.encode("latin-1", "replace").decode("latin-1")
            pdf.multi_cell(0, 5, safe)
            pdf.ln(3)
    return bytes(pdf.output())


def test_a_pdf_report_is_extracted_classified_and_filed(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    shared_path("eval", "relevance", "articles.jsonl")
    article = relevance_articles([ARTICLES[1]])[ARTICLES[1]]
    text = article["text"].replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    report = _pdf_report(text, "North Korean troops in Russia")
    link = site.add_page(Page("/reports/troops.pdf", report, "application/pdf"))
    feed = site.add_feed(
        "/feed.xml", rss([FeedItem(link, "Report", guid="r", published=datetime.now(UTC))])
    )
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Reports", "url": feed}],
    )

    _fetch(config)

    ((title, relevant, labels, stored),) = query(
        database_url, "SELECT title, relevant, labels, text FROM items WHERE NOT is_seed"
    )
    assert title == "North Korean troops in Russia"
    assert relevant, "a report on the beat is relevant, PDF or not"
    assert "russia-nk" in str(labels)
    assert str(stored).count("\n") > 5, "paragraphs, not one line per page"
    filed = [p for p in seed_corpus.glob("[0-9][0-9][0-9]_*.txt") if int(p.name[:3]) >= 5]
    assert len(filed) == 1
    assert "North Korea" in filed[0].read_text(encoding="utf-8")


def test_a_gap_in_a_feed_is_filled_from_its_sitemap(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    names = ["a", "b", "c", "d", "e", "f", "g"]
    urls = dict(zip(names, _pages(site, [f"/p/{n}" for n in names]), strict=True))
    now = datetime.now(UTC)
    shown = ["a", "b", "c"]

    def feed() -> bytes:
        return rss([FeedItem(urls[n], n, guid=n, published=now) for n in shown])

    feed_url = site.add_feed("/feed.xml", feed)
    sitemap = _urlset(
        [(urls[n], now) for n in names] + [(site.url("/p/ancient"), now - timedelta(days=90))]
    )
    sitemap_url = site.add_feed("/sitemap.xml", sitemap, "application/xml")
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Busy", "url": feed_url, "sitemap": sitemap_url}],
    )
    _fetch(config)
    assert sorted(_outcomes(database_url)) == ["a", "b", "c"]
    assert site.requests_to("/sitemap.xml") == [], "no gap, no sitemap"

    shown[:] = ["e", "f", "g"]  # d came and went while nobody looked
    out = _fetch(config)

    assert "possible gap" in out
    assert "backfilled 1 entries" in out
    assert sorted(_outcomes(database_url)) == ["a", "b", "c", "d", "e", "f", "g"]
    assert "ancient" not in _outcomes(database_url), "only what the gap may have hidden"
    assert site.requests_to("/sitemap.xml") == ["/sitemap.xml"]
