"""``watcher sources discover URL``: a site's feeds and sitemaps, as TOML to paste.

    the page      <link rel="alternate"> feeds, and links that look like feeds
    common paths  /feed, /rss.xml, /atom.xml, ... under the site and the page
    robots.txt    its Sitemap: lines; then /sitemap.xml and the usual names
    each one      downloaded and parsed: only what really is a feed or a sitemap is kept

Every download goes through watcher's client (caps, deadline, address checks,
politeness); nothing is fetched by a library on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.html

from watcher.config import HttpConfig
from watcher.errors import FetchError
from watcher.extraction.page import decode_html
from watcher.fetch.http import Fetcher, Response
from watcher.sources.feeds import parse_feed
from watcher.sources.opml import toml_string
from watcher.sources.reading import ACCEPT
from watcher.sources.sitemaps import parse_sitemap

__all__ = ["Discovery", "Found", "discover", "toml_blocks"]

_FEED_TYPES = ("rss", "atom", "feed+json", "application/json", "rdf")
_FEED_PATHS = ("feed", "feed/", "rss", "rss/", "rss.xml", "feed.xml", "atom.xml", "index.xml")
_SITEMAP_PATHS = ("sitemap.xml", "sitemap_index.xml", "news-sitemap.xml", "sitemap-news.xml")
_LINK_HINTS = ("rss", "feed", "atom")


@dataclass(frozen=True, slots=True)
class Found:
    kind: str  # feed | sitemap
    url: str
    title: str | None
    entries: int  # feed entries, or sitemap URLs (for an index: its sitemaps)
    newest: datetime | None
    index: bool = False


@dataclass(frozen=True, slots=True)
class Discovery:
    page: str
    title: str | None
    language: str | None
    found: tuple[Found, ...]
    problems: tuple[str, ...]


async def discover(config: HttpConfig, url: str) -> Discovery:
    """Raises FetchError if the page itself cannot be fetched."""
    cap = config.max_bytes
    async with Fetcher(config) as fetcher:
        page = await fetcher.get(url, accept=ACCEPT["listing"])
        assert isinstance(page, Response)  # no validators were sent
        html = decode_html(page.body, page.content_type)
        document = lxml.html.fromstring(html) if html.strip() else None
        title, language = _page_facts(document)
        feeds = _feed_candidates(document, page.final_url)
        sitemaps = await _sitemap_candidates(fetcher, page.final_url)
        checks = [_check_feed(fetcher, u) for u in feeds]
        checks += [_check_sitemap(fetcher, u, cap) for u in sitemaps]
        results = await asyncio.gather(*checks)
    found = [r for r in results if isinstance(r, Found)]
    problems = [r for r in results if isinstance(r, str)]
    return Discovery(page.final_url, title, language, tuple(_unique(found)), tuple(problems))


def _page_facts(document: lxml.html.HtmlElement | None) -> tuple[str | None, str | None]:
    if document is None:
        return None, None
    title = " ".join((document.findtext(".//title") or "").split()) or None
    language = (document.get("lang") or "").split("-")[0].lower() or None
    return title, language


def _feed_candidates(document: lxml.html.HtmlElement | None, page: str) -> list[str]:
    """Declared feeds first, then links that look like feeds, then the usual paths."""
    found: list[str] = []
    if document is not None:
        for link in document.iterfind(".//link[@href]"):
            rel = (link.get("rel") or "").lower().split()
            kind = (link.get("type") or "").lower()
            if "alternate" in rel and any(t in kind for t in _FEED_TYPES):
                found.append(urljoin(page, link.get("href", "")))
        for anchor in document.iterfind(".//a[@href]"):
            href = anchor.get("href", "")
            tail = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1].lower()
            if any(hint in tail for hint in _LINK_HINTS) and not tail.endswith(".html"):
                found.append(urljoin(page, href))
    root = urljoin(page, "/")
    here = page if page.endswith("/") else page.rsplit("/", 1)[0] + "/"
    found += [urljoin(base, path) for base in dict.fromkeys([here, root]) for path in _FEED_PATHS]
    return [u for u in dict.fromkeys(found) if u.lower().startswith(("http://", "https://"))]


async def _sitemap_candidates(fetcher: Fetcher, page: str) -> list[str]:
    root = urljoin(page, "/")
    found: list[str] = []
    try:
        robots = await fetcher.get(urljoin(root, "/robots.txt"), accept="text/plain")
        assert isinstance(robots, Response)
        for line in robots.body.decode("utf-8", "replace").splitlines():
            name, _colon, value = line.partition(":")
            if name.strip().lower() == "sitemap" and value.strip():
                found.append(urljoin(root, value.strip()))
    except FetchError:
        pass  # no robots.txt: the usual names are tried anyway
    found += [urljoin(root, path) for path in _SITEMAP_PATHS]
    return list(dict.fromkeys(found))


async def _check_feed(fetcher: Fetcher, url: str) -> Found | str | None:
    try:
        response = await fetcher.get(url, accept=ACCEPT["feed"])
    except FetchError as exc:
        return None if exc.kind == "http_4xx" else f"{url}: {exc.kind}"
    assert isinstance(response, Response)
    parsed = parse_feed(response.body, url=response.final_url, content_type=response.content_type)
    if not parsed.version or (not parsed.entries and parsed.ill_formed):
        return None
    dates = [e.published for e in parsed.entries if e.published]
    newest = max(dates, default=None)
    return Found("feed", response.final_url, parsed.title, len(parsed.entries), newest)


async def _check_sitemap(fetcher: Fetcher, url: str, cap: int) -> Found | str | None:
    try:
        response = await fetcher.get(url, accept=ACCEPT["sitemap"])
    except FetchError as exc:
        return None if exc.kind == "http_4xx" else f"{url}: {exc.kind}"
    assert isinstance(response, Response)
    sitemap = parse_sitemap(response.body, max_bytes=cap)
    if sitemap.problem:
        return None
    links = sitemap.children or sitemap.urls
    dates = [d for link in links if (d := link.published or link.lastmod)]
    return Found(
        "sitemap", response.final_url, None, len(links), max(dates, default=None), sitemap.is_index
    )


def _unique(found: Sequence[Found]) -> list[Found]:
    """One per final URL (``/feed`` and ``/feed/`` are often the same feed)."""
    seen: dict[str, Found] = {}
    for item in found:
        seen.setdefault(item.url, item)
    return list(seen.values())


def toml_blocks(discovery: Discovery) -> str:
    """Ready-to-paste ``[[sources]]`` tables: each feed (with the site's sitemap for
    backfill), or, with no feed, each sitemap as a sitemap source."""
    feeds = [f for f in discovery.found if f.kind == "feed"]
    sitemaps = [f for f in discovery.found if f.kind == "sitemap"]
    homepage = urljoin(discovery.page, "/")
    language = discovery.language or "en"
    blocks = []
    for feed in feeds:
        name = feed.title or discovery.title or homepage
        lines = [
            f"# {_summary(feed)}",
            "[[sources]]",
            f"name = {toml_string(name)}",
            f"url = {toml_string(feed.url)}",
        ]
        lines += [f"homepage = {toml_string(homepage)}", f"language = {toml_string(language)}"]
        if sitemaps:
            lines.append(
                f"sitemap = {toml_string(sitemaps[0].url)}  # read to backfill after a gap"
            )
        blocks.append("\n".join(lines))
    if not feeds:
        for sitemap in sitemaps:
            name = f"{discovery.title or homepage} (sitemap)"
            lines = [f"# {_summary(sitemap)}", "[[sources]]", f"name = {toml_string(name)}"]
            lines += [
                f"url = {toml_string(sitemap.url)}",
                'kind = "sitemap"',
                f"homepage = {toml_string(homepage)}",
            ]
            lines += [
                f"language = {toml_string(language)}",
                '# url_pattern = "/analysis/"  # articles only',
            ]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _summary(found: Found) -> str:
    what = "sitemaps" if found.index else ("entries" if found.kind == "feed" else "URLs")
    newest = f", newest {found.newest:%Y-%m-%d}" if found.newest else ""
    return f"{found.kind}: {found.entries} {what}{newest}"
