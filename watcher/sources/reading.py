"""A source's response -> ParsedFeed, whatever the source is: a feed, a sitemap (with
the sub-sitemaps of an index fetched here), or a listing page.

Everything after this stage sees feed entries only. Parsing runs on the worker pool
(pure CPU work); every download goes through watcher's own client.

    feed     feedparser (RSS, Atom) or JSON Feed       no feed at all: not_a_feed
    sitemap  urlset, sitemapindex, text, gzip           no sitemap: parse_error
             an index's newest sub-sitemaps, fetched (changed since the last poll)
    listing  the links a CSS selector picks             nothing picked: parse_error
    then     url_pattern keeps the matching links
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from watcher.analyse import parse_feed_in_worker, parse_listing_in_worker, parse_sitemap_in_worker
from watcher.config import SourceConfig
from watcher.errors import FetchError, FetchErrorKind
from watcher.fetch.http import Fetcher, Response
from watcher.services.workers import WorkerCrashed, WorkerPool
from watcher.sources.feeds import ParsedFeed
from watcher.sources.listing import matching
from watcher.sources.sitemaps import Sitemap, SitemapLink, sitemap_feed

__all__ = ["ACCEPT", "SourceReader", "check_parsed"]

log = logging.getLogger(__name__)

ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    "sitemap": "application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5",
    "listing": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
}
T = TypeVar("T")
MAX_SUB_SITEMAPS = 10  # per poll: the newest, or those changed since the last poll
_SLACK = timedelta(days=1)  # lastmod clocks are rough; read a little more than needed


class SourceReader:
    def __init__(self, fetcher: Fetcher, workers: WorkerPool, max_bytes: int) -> None:
        self._fetcher = fetcher
        self._workers = workers
        self._max_bytes = max_bytes

    async def parse(
        self, source: SourceConfig, response: Response, since: datetime | None
    ) -> ParsedFeed:
        """The source's entries in this response. ``since``: the last successful poll
        (an index's sub-sitemaps unchanged since then are not fetched again)."""
        if source.kind == "feed":
            body, url, kind = response.body, response.final_url, response.content_type
            feed = await self._run(url, parse_feed_in_worker, body, url, kind)
            parsed = check_parsed(response, feed)
        elif source.kind == "listing":
            parsed = await self._run(
                response.url,
                parse_listing_in_worker,
                response.body,
                response.final_url,
                response.content_type,
                source.selector,
            )
            if not parsed.version:
                raise FetchError(response.url, "parse_error", parsed.problem or "no links")
        else:
            parsed = await self.sitemap(response, since)
        return dataclasses.replace(parsed, entries=matching(parsed.entries, source.url_pattern))

    async def sitemap(self, response: Response, since: datetime | None) -> ParsedFeed:
        """A sitemap's pages; for an index, those of its sub-sitemaps changed since
        ``since`` (the newest ``MAX_SUB_SITEMAPS``). A sub-sitemap that fails is a
        warning: the others still count."""
        top = await self._sitemap_of(response)
        links = list(top.urls)
        warnings: list[str] = []
        for child in children_to_read(top.children, since):
            try:
                fetched = await self._fetcher.get(child.loc, accept=ACCEPT["sitemap"])
                assert isinstance(fetched, Response)  # no validators were sent
                links += (await self._sitemap_of(fetched)).urls
            except FetchError as exc:
                warnings.append(f"sub-sitemap skipped: {exc}")
        return dataclasses.replace(sitemap_feed(links), skipped=tuple(warnings))

    async def _sitemap_of(self, response: Response) -> Sitemap:
        sitemap = await self._run(
            response.url, parse_sitemap_in_worker, response.body, self._max_bytes
        )
        if sitemap.problem:
            kind: FetchErrorKind = (
                "too_large" if "larger than" in sitemap.problem else "parse_error"
            )
            raise FetchError(response.url, kind, sitemap.problem)
        return sitemap

    async def _run(self, url: str, function: Callable[..., T], *args: Any) -> T:
        """A parser on the worker pool; a worker that died fails this source's poll."""
        try:
            return await self._workers.run(function, *args)
        except WorkerCrashed as exc:
            raise FetchError(url, "parse_error", f"worker died: {exc}") from exc


def children_to_read(children: Sequence[SitemapLink], since: datetime | None) -> list[SitemapLink]:
    """The sub-sitemaps worth fetching: changed since ``since`` (or undated), newest
    first, at most ``MAX_SUB_SITEMAPS``."""
    fresh = [
        child
        for child in children
        if since is None or child.lastmod is None or child.lastmod >= since - _SLACK
    ]
    dated = sorted((c for c in fresh if c.lastmod), key=_lastmod, reverse=True)
    undated = [c for c in fresh if c.lastmod is None]
    return (dated + undated[::-1])[:MAX_SUB_SITEMAPS]


def _lastmod(link: SitemapLink) -> datetime:
    return link.lastmod or datetime.min.replace(tzinfo=UTC)


def check_parsed(response: Response, parsed: ParsedFeed) -> ParsedFeed:
    """The parsed feed, or FetchError when the response holds no feed at all, or an
    ill-formed one that yields nothing (a truncated download, a broken generator): a
    failure, retried with backoff, not a quiet source."""
    if not parsed.entries and (not parsed.version or parsed.ill_formed):
        kind: FetchErrorKind = "parse_error" if _looks_like_xml(response.body) else "not_a_feed"
        detail = parsed.problem or "no feed found in the response"
        content_type = response.content_type or "no content type"
        raise FetchError(response.url, kind, f"{detail} ({content_type})")
    return parsed


def _looks_like_xml(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")) and b"<html" not in head
