"""More of the pass through the CLI against a real server: politeness, validators,
ill-formed feeds, canonical links and the feed-content fallback."""

from __future__ import annotations

import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import query, run_watcher, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss

RELEVANT = "eco20-2020-06-20-liaison-office"
OTHER = "pen0-2024-12-04-north-korean-troops-in-russia"
THIRD = "eco25-2025-12-20-017"


def _article(article_id: str) -> tuple[str, list[str]]:
    article = relevance_articles([article_id])[article_id]
    return article["title"], [line for line in article["text"].splitlines() if line.strip()]


def _config(tmp_path: Path, database_url: str, corpus: Path, url: str, **http: object) -> Path:
    return write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=corpus,
        sources=[{"name": "Site", "url": url}],
        http=dict(http),
    )


def test_requests_to_one_host_are_spaced(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """per_host_delay holds between request starts to one host (a lower bound only)."""
    site = Site(threaded_server)
    starts: list[float] = []
    items = []
    for i, article_id in enumerate([RELEVANT, OTHER, THIRD]):
        title, paragraphs = _article(article_id)
        body = article_html(title, paragraphs).encode()

        def handler(_request: Request, body: bytes = body) -> Response:
            starts.append(time.monotonic())
            return Response(body, content_type="text/html; charset=utf-8")

        threaded_server.expect_request(f"/a/{i}").respond_with_handler(handler)
        items.append(FeedItem(site.url(f"/a/{i}"), title, guid=str(i), published=recent()))
    url = site.add_feed("/feed.xml", rss(items))
    config = _config(tmp_path, database_url, seed_corpus, url, per_host_delay=0.5)

    assert run_watcher("fetch", config=config).returncode == 0

    assert len(starts) == 3
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert min(gaps) >= 0.45, gaps


def test_feed_without_validators_is_not_parsed_again_when_unchanged(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """No ETag, no Last-Modified: an identical body is recognised by its hash."""
    site = Site(threaded_server)
    title, paragraphs = _article(RELEVANT)
    link = site.add_page(Page("/a", article_html(title, paragraphs).encode()))
    threaded_server.expect_request("/feed.xml").respond_with_data(
        rss([FeedItem(link, title, guid="a", published=recent())]),
        content_type="application/rss+xml",
    )
    config = _config(tmp_path, database_url, seed_corpus, site.url("/feed.xml"))
    first = run_watcher("fetch", config=config)
    second = run_watcher("fetch", config=config)
    assert first.returncode == second.returncode == 0
    row = next(line for line in second.stdout.splitlines() if "Site" in line)
    assert row.split("│")[2].strip() == "0", "seen: the unchanged body was not parsed"
    assert site.requests_to("/a") == ["/a"]


def test_ill_formed_feed_with_entries_is_used_with_a_warning(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    title, paragraphs = _article(RELEVANT)
    link = site.add_page(Page("/a", article_html(title, paragraphs).encode()))
    broken = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Tom & Jerry</title>'
        f"<item><title>A & B</title><link>{link}</link><guid>a</guid></item>"
        "</channel></rss>"
    ).encode()
    url = site.add_feed("/feed.xml", broken)
    result = run_watcher("fetch", config=_config(tmp_path, database_url, seed_corpus, url))
    assert result.returncode == 0, result.stderr
    assert "warning: ill-formed feed, used anyway" in result.stdout
    assert len(list(seed_corpus.glob("005_*.txt"))) == 1


def test_canonical_link_is_honoured_unless_it_points_at_a_section(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A same-site canonical names the article; a section page as canonical is ignored."""
    site = Site(threaded_server)
    title_a, paragraphs_a = _article(RELEVANT)
    title_b, paragraphs_b = _article(OTHER)
    canonical = site.url("/2024/06/liaison-office")
    page_a = article_html(title_a, paragraphs_a, canonical=canonical)
    page_b = article_html(title_b, paragraphs_b, canonical=site.url("/analysis"))
    link_a = site.add_page(Page("/amp/2024/06/liaison-office-amp", page_a.encode()))
    link_b = site.add_page(Page("/analysis/troops-in-russia", page_b.encode()))
    items = [
        FeedItem(link_a, title_a, guid="a", published=recent()),
        FeedItem(link_b, title_b, guid="b", published=recent()),
    ]
    url = site.add_feed("/feed.xml", rss(items))
    assert (
        run_watcher("fetch", config=_config(tmp_path, database_url, seed_corpus, url)).returncode
        == 0
    )
    urls = {str(row[0]) for row in query(database_url, "SELECT url FROM items WHERE NOT is_seed")}
    assert canonical in urls
    assert site.url("/analysis/troops-in-russia") in urls
    assert site.url("/analysis") not in urls


def test_thin_page_falls_back_to_the_feed_content(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A teaser page with a full-text feed: the feed's text is filed."""
    site = Site(threaded_server)
    title, paragraphs = _article(RELEVANT)
    teaser = article_html(title, ["Subscribe to read the full analysis."]).encode()
    link = site.add_page(Page("/teaser", teaser))
    description = "".join(f"<p>{p}</p>" for p in paragraphs)
    url = site.add_feed(
        "/feed.xml",
        rss([FeedItem(link, title, guid="t", published=recent(), description=description)]),
    )
    assert (
        run_watcher("fetch", config=_config(tmp_path, database_url, seed_corpus, url)).returncode
        == 0
    )
    (filed,) = seed_corpus.glob("005_*.txt")
    body = filed.read_text(encoding="utf-8")
    assert paragraphs[3] in body
    assert "Subscribe to read" not in body


def test_canonical_shared_by_different_texts_is_not_believed(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Two different articles declaring one canonical URL are two articles."""
    site = Site(threaded_server)
    shared_canonical = site.url("/2024/story")
    links = []
    for slug, article_id in (("one", RELEVANT), ("two", OTHER)):
        title, paragraphs = _article(article_id)
        page = article_html(title, paragraphs, canonical=shared_canonical)
        links.append(site.add_page(Page(f"/2024/story/{slug}-x", page.encode())))
    items = [
        FeedItem(link, f"t{i}", guid=str(i), published=recent()) for i, link in enumerate(links)
    ]
    url = site.add_feed("/feed.xml", rss(items))
    assert (
        run_watcher("fetch", config=_config(tmp_path, database_url, seed_corpus, url)).returncode
        == 0
    )
    assert len(list(seed_corpus.glob("00[5-9]_*.txt"))) == 2
    assert query(database_url, "SELECT count(*) FROM entries WHERE duplicate") == [(0,)]


def test_article_syndicated_on_two_sources_is_filed_once(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """The same text under two sites' URLs: one file, the copy listed in the manifest."""
    site = Site(threaded_server)
    title, paragraphs = _article(RELEVANT)
    original = site.add_page(Page("/think-tank/analysis", article_html(title, paragraphs).encode()))
    partner_page = article_html(
        f"{title} (republished)", [*paragraphs, "This article first appeared at the Institute."]
    )
    copy = site.add_page(Page("/partner/republished", partner_page.encode()))
    feed_a = site.add_feed("/a.xml", rss([FeedItem(original, title, guid="a", published=recent())]))
    feed_b = site.add_feed("/b.xml", rss([FeedItem(copy, title, guid="b", published=recent())]))
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": feed_a}],
    )
    assert run_watcher("fetch", config=config).returncode == 0
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": feed_a}, {"name": "Partner", "url": feed_b}],
    )
    result = run_watcher("fetch", config=config)
    assert result.returncode == 0, result.stderr
    assert len(list(seed_corpus.glob("00[5-9]_*.txt"))) == 1
    manifest = (seed_corpus / "manifest.jsonl").read_text(encoding="utf-8")
    assert site.url("/partner/republished") in manifest


def test_source_option_polls_only_the_named_source(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    feed = rss([FeedItem(site.url("/none"), "x", guid="x", published=recent(400))])
    one, two = site.add_feed("/one.xml", feed), site.add_feed("/two.xml", feed)
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "One", "url": one}, {"name": "Two", "url": two}],
    )
    result = run_watcher("fetch", "--source", "Two", config=config)
    assert result.returncode == 0, result.stderr
    assert site.requests_to("/one.xml") == []
    assert site.requests_to("/two.xml") == ["/two.xml"]


def test_robots_txt_keeps_disallowed_pages_unfetched(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Disallowed article pages are never requested: their entries fail as ``robots``,
    for good; the rules are read once; the feed itself is not subject to them."""
    site = Site(threaded_server)
    site.robots = "User-agent: *\nDisallow: /private/\nDisallow: /feeds/\n"
    items = []
    for path, article_id in (("/private/a", RELEVANT), ("/public/b", OTHER)):
        title, paragraphs = _article(article_id)
        link = site.add_page(Page(path, article_html(title, paragraphs).encode()))
        items.append(FeedItem(link, title, guid=path, published=recent()))
    url = site.add_feed("/feeds/main.xml", rss(items))

    result = run_watcher("fetch", config=_config(tmp_path, database_url, seed_corpus, url))

    assert result.returncode == 0, result.stderr
    assert site.requests_to("/private/") == []
    assert site.requests_to("/public/") == ["/public/b"]
    assert site.requests_to("/robots.txt") == ["/robots.txt"]
    assert "disallowed by robots.txt" in result.stdout
    failed = query(database_url, "SELECT error_kind, permanent FROM entries WHERE state = 'failed'")
    assert failed == [("robots", True)]
    assert len(list(seed_corpus.glob("00[5-9]_*.txt"))) == 1


def test_a_poll_where_every_entry_is_new_is_flagged_as_a_possible_gap(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """After downtime a feed may have moved on further than it holds: all entries new
    on a feed polled before is reported, stored and listed. One new entry among known
    ones is not."""
    site = Site(threaded_server)
    title, paragraphs = _article(OTHER)
    feed: dict[str, list[FeedItem]] = {"items": []}

    def entries(names: str) -> list[FeedItem]:
        found = []
        for name in names:
            link = site.add_page(Page(f"/n/{name}", article_html(title, paragraphs).encode()))
            found.append(FeedItem(link, f"{title} {name}", guid=name, published=recent()))
        return found

    url = site.add_feed("/feed.xml", lambda: rss(feed["items"]))
    config = _config(tmp_path, database_url, seed_corpus, url)
    gap = "SELECT gap_suspected_at FROM sources"

    feed["items"] = entries("abc")
    assert "possible gap" not in run_watcher("fetch", config=config).stdout, "a first poll"
    feed["items"] = [*entries("d"), *feed["items"]]
    assert "possible gap" not in run_watcher("fetch", config=config).stdout
    assert query(database_url, gap) == [(None,)]

    feed["items"] = entries("efgh")
    result = run_watcher("fetch", config=config)

    assert result.returncode == 0, result.stderr
    assert "possible gap: all 4 entries are new" in result.stdout
    assert query(database_url, gap)[0][0] is not None
    listed = run_watcher("sources", "list", config=config)
    assert "possible gap" in listed.stdout
