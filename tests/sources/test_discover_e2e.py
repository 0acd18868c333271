"""``watcher sources discover`` against a local site: declared and undeclared feeds,
sitemaps from robots.txt, and a site with nothing to offer."""

from __future__ import annotations

import gzip
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import run_watcher, write_config
from tests.site import FeedItem, Page, Site, rss
from watcher.config import SourceConfig

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "w.toml",
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        corpus=tmp_path / "corpus",
        sources=[],
    )


def test_discover_finds_declared_and_usual_feeds_and_the_sitemap_in_robots(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    items = [FeedItem(site.url(f"/analysis/{n}"), f"Piece {n}", published=now) for n in range(3)]
    site.add_feed("/analysis/rss.xml", rss(items, title="Institute analysis"))
    site.add_feed("/feed/", rss(items[:1], title="Institute news"))
    sitemap = f"<urlset {NS}><url><loc>{site.url('/analysis/0')}</loc></url></urlset>"
    site.add_page(Page("/maps/all.xml.gz", gzip.compress(sitemap.encode()), "application/gzip"))
    site.robots = f"User-agent: *\nAllow: /\nSitemap: {site.url('/maps/all.xml.gz')}\n"
    home = """<html lang="ko-KR"><head><title>Institute</title>
      <link rel="alternate" type="application/rss+xml" href="/analysis/rss.xml">
      <link rel="stylesheet" href="/style.css"></head>
      <body><a href="/about.html">About</a><a href="/feeds/atom">Atom</a></body></html>"""
    site.add_page(Page("/", home.encode()))

    done = run_watcher("sources", "discover", site.url("/"), config=_config(tmp_path))

    assert done.returncode == 0, done.stderr
    tables = tomllib.loads(done.stdout)["sources"]
    sources = [SourceConfig.model_validate(table) for table in tables]
    assert [s.feed_url for s in sources] == [
        site.url("/analysis/rss.xml"),
        site.url("/feed/"),
    ], "the declared feed first; the missing /feeds/atom is no feed"
    assert sources[0].name == "Institute analysis"
    assert sources[0].language == "ko"
    assert str(sources[0].sitemap) == site.url("/maps/all.xml.gz"), "for backfill"
    assert "# feed: 3 entries, newest 2026-11-20" in done.stdout
    assert site.requests_to("/maps/all.xml.gz") == ["/maps/all.xml.gz"]


def test_a_site_with_only_a_sitemap_gets_a_sitemap_source(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver)
    index = f"<sitemapindex {NS}><sitemap><loc>{site.url('/s1.xml')}</loc></sitemap></sitemapindex>"
    site.add_page(Page("/sitemap.xml", index.encode(), "application/xml"))
    site.add_page(Page("/", b"<html><head><title>Quiet Institute</title></head></html>"))

    done = run_watcher("sources", "discover", site.url("/"), config=_config(tmp_path))

    assert done.returncode == 0, done.stderr
    (table,) = tomllib.loads(done.stdout)["sources"]
    source = SourceConfig.model_validate(table)
    assert (source.kind, source.feed_url) == ("sitemap", site.url("/sitemap.xml"))
    assert source.name == "Quiet Institute (sitemap)"
    assert "sitemap: 1 sitemaps" in done.stdout


def test_nothing_found_and_an_unreachable_page_exit_1(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver)
    site.add_page(Page("/", b"<html><head><title>Nothing</title></head></html>"))
    nothing = run_watcher("sources", "discover", site.url("/"), config=_config(tmp_path))
    missing = run_watcher("sources", "discover", site.url("/gone"), config=_config(tmp_path))
    assert nothing.returncode == 1
    assert "no feed or sitemap at" in nothing.stderr
    assert missing.returncode == 1
    assert "http_" in missing.stderr
    assert nothing.stdout == missing.stdout == ""
