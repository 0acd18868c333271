"""Sitemaps -> URLs: the sitemaps.org protocol (urlset and sitemapindex, XML or plain
text, gzipped or not) and Google News sitemaps' titles and publication dates.

Parsing never fetches: a sitemap index's children are returned for the caller to
fetch through watcher's own client (size caps, deadline, address checks, politeness).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from watcher.dedup.urls import canonical_url
from watcher.sources.feeds import FeedEntry, ParsedFeed

__all__ = ["Sitemap", "SitemapLink", "parse_sitemap", "sitemap_feed"]

_MAX_URLS = 50_000  # the protocol's limit per file; more is a broken or hostile file


@dataclass(frozen=True, slots=True)
class SitemapLink:
    loc: str
    lastmod: datetime | None
    title: str | None = None  # news:title
    published: datetime | None = None  # news:publication_date


@dataclass(frozen=True, slots=True)
class Sitemap:
    urls: tuple[SitemapLink, ...]  # a urlset's pages
    children: tuple[SitemapLink, ...]  # a sitemap index's sitemaps
    problem: str | None = None  # set when the bytes are no sitemap

    @property
    def is_index(self) -> bool:
        return bool(self.children)


def parse_sitemap(body: bytes, *, max_bytes: int) -> Sitemap:
    """Parse one sitemap file; never raises for bad input (see ``problem``)."""
    if body[:2] == b"\x1f\x8b":
        try:
            inflated = _gunzip(body, max_bytes)
        except zlib.error as exc:
            return Sitemap((), (), f"damaged gzip: {exc}")
        if inflated is None:
            return Sitemap((), (), f"larger than {max_bytes} bytes once decompressed")
        body = inflated
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head and head != b"<":
        return _text_sitemap(body)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return Sitemap((), (), f"not XML: {exc}")
    if root is None:
        return Sitemap((), (), "not XML")
    kind = etree.QName(root).localname
    if kind == "urlset":
        return Sitemap(tuple(_links(root, "url")), ())
    if kind == "sitemapindex":
        return Sitemap((), tuple(_links(root, "sitemap")))
    return Sitemap((), (), f"not a sitemap (the document is <{kind}>)")


def _gunzip(body: bytes, max_bytes: int) -> bytes | None:
    """Decompressed while counting, so a gzip bomb stops at the cap."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = inflater.decompress(body, max_bytes + 1)
    return None if len(data) > max_bytes or inflater.unconsumed_tail else data


def _text_sitemap(body: bytes) -> Sitemap:
    lines = body.decode("utf-8", "replace").splitlines()
    links = [
        line.strip() for line in lines if line.strip().lower().startswith(("http://", "https://"))
    ]
    if not links:
        return Sitemap((), (), "neither XML nor a list of URLs")
    return Sitemap(tuple(SitemapLink(link, None) for link in links[:_MAX_URLS]), ())


def _links(root: etree._Element, tag: str) -> list[SitemapLink]:
    found = []
    for element in root.iterfind(f"{{*}}{tag}"):
        loc = " ".join((element.findtext("{*}loc") or "").split())
        if not loc.lower().startswith(("http://", "https://")):
            continue
        news = element.find("{*}news")
        found.append(
            SitemapLink(
                loc=loc,
                lastmod=_w3c_date(element.findtext("{*}lastmod")),
                title=" ".join((news.findtext("{*}title") or "").split()) or None
                if news is not None
                else None,
                published=_w3c_date(news.findtext("{*}publication_date"))
                if news is not None
                else None,
            )
        )
        if len(found) == _MAX_URLS:
            break
    return found


def _w3c_date(value: str | None) -> datetime | None:
    """W3C Datetime (2024, 2024-05, 2024-05-01, 2024-05-01T10:00Z, with seconds, with
    an offset); None if absent or unreadable."""
    text = (value or "").strip().replace("Z", "+00:00")
    if not text:
        return None
    for candidate in (text, f"{text}-01", f"{text}-01-01"):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def sitemap_feed(links: list[SitemapLink], title: str | None = None) -> ParsedFeed:
    """Sitemap URLs as feed entries: the page URL is the key, the news publication date
    (else lastmod) its date."""
    entries: dict[str, FeedEntry] = {}
    for link in links:
        key = canonical_url(link.loc)
        published = link.published or link.lastmod
        entries.setdefault(key, FeedEntry(key, None, link.loc, link.title, published, (), None))
    return ParsedFeed("sitemap", title, tuple(entries.values()), False, None, ())
