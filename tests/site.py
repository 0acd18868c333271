"""A local web site for end-to-end tests: real pages behind a real RSS feed.

Feeds honour If-None-Match and If-Modified-Since like a well-behaved server, so a
second pass can be checked to download nothing but a 304.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import SHARED


@dataclass
class Page:
    path: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    title: str = ""


@dataclass
class FeedItem:
    link: str
    title: str
    guid: str | None = None
    published: datetime | None = None
    description: str = ""


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    canonical: str | None = None,
    charset: str = "utf-8",
    lang: str = "en",
) -> str:
    """A plain article page with the furniture real sites have around the text."""
    head = [
        f'<meta charset="{charset}">',
        f"<title>{html.escape(title)} | Example Institute</title>",
    ]
    if canonical:
        head.append(f'<link rel="canonical" href="{html.escape(canonical)}">')
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head>{"".join(head)}</head><body>'
        '<header><nav><a href="/">Home</a> <a href="/research">Research</a> '
        '<a href="/about">About us</a></nav></header>'
        f"<main><article><h1>{html.escape(title)}</h1>{body}</article></main>"
        "<footer><p>Copyright Example Institute. All rights reserved.</p>"
        '<a href="/privacy">Privacy</a></footer></body></html>'
    )


def rss(items: list[FeedItem], *, title: str = "Example feed") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{html.escape(title)}</title><link>http://example.org/</link>",
        "<description>test</description>",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{html.escape(item.title)}</title>")
        parts.append(f"<link>{html.escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{html.escape(item.guid)}</guid>')
        if item.published is not None:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        if item.description:
            parts.append(f"<description>{html.escape(item.description)}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


@dataclass(frozen=True)
class Held:
    requested: threading.Event  # the first request came
    released: threading.Event  # set by the test: the first request is answered


@dataclass
class Site:
    """Pages and feeds served by one pytest-httpserver."""

    server: HTTPServer
    pages: dict[str, Page] = field(default_factory=dict)
    robots: str | None = None  # robots.txt; None: the site has none (404)

    def __post_init__(self) -> None:
        # Registered first and answered from the attribute, so a test may set rules
        # after making the site. Without a handler the server would answer 500, which
        # watcher rightly reads as "nothing may be fetched".
        def robots(_request: Request) -> Response:
            if self.robots is None:
                return Response("not found", status=404)
            return Response(self.robots, content_type="text/plain")

        self.server.expect_request("/robots.txt").respond_with_handler(robots)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def add_page(self, page: Page) -> str:
        self.pages[page.path] = page
        self.server.expect_request(page.path).respond_with_data(
            page.body, content_type=page.content_type
        )
        return self.url(page.path)

    def add_held_page(self, path: str, body: bytes, deadline: float) -> Held:
        """A page whose first request waits until the test releases it (a request in
        flight, for the test to act during); later requests are answered at once."""
        held = Held(threading.Event(), threading.Event())

        def handler(_request: Request) -> Response:
            if not held.requested.is_set():
                held.requested.set()
                held.released.wait(timeout=deadline)
            return Response(body, content_type="text/html; charset=utf-8")

        self.server.expect_request(path).respond_with_handler(handler)
        return held

    def add_feed(
        self,
        path: str,
        body: Callable[[], bytes] | bytes,
        content_type: str = "application/rss+xml",
    ) -> str:
        def handler(request: Request) -> Response:
            data = body() if callable(body) else body
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            modified = "Mon, 02 Nov 2026 10:00:00 GMT"
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            headers = {"ETag": etag, "Last-Modified": modified}
            return Response(data, content_type=content_type, headers=headers)

        self.server.expect_request(path).respond_with_handler(handler)
        return self.url(path)

    def requests_to(self, prefix: str) -> list[str]:
        return [req.path for req, _resp in self.server.log if req.path.startswith(prefix)]


def article_items(site: Site, path: str, ids: list[str]) -> list[FeedItem]:
    """Labelled articles of ../shared served as pages under ``path``, as feed items
    published a day ago (skips, saying why, without ../shared)."""
    from tests.conftest import shared_path

    shared_path("eval", "relevance", "articles.jsonl")
    articles = relevance_articles(ids)
    items = []
    for article_id in ids:
        article = articles[article_id]
        paragraphs = [line for line in article["text"].splitlines() if line.strip()]
        page = article_html(article["title"], paragraphs).encode()
        link = site.add_page(Page(f"{path}/{article_id}", page))
        items.append(FeedItem(link, article["title"], guid=article_id, published=recent()))
    return items


def relevance_articles(ids: list[str]) -> dict[str, dict[str, str]]:
    path = SHARED / "eval" / "relevance" / "articles.jsonl"
    wanted = set(ids)
    found = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["id"] in wanted:
                found[record["id"]] = record
    return found


def recent(days: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def korea_related_pages() -> list[tuple[str, Path]]:
    """(slug, path) for every page listed in pages/korea-related/INDEX.tsv."""
    folder = SHARED / "pages" / "korea-related"
    rows = (folder / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    pages = []
    for number, row in enumerate(rows):
        local = row.split("\t")[0]
        if local and (folder / local).is_file():
            pages.append((f"kr{number:03d}", folder / local))
    return pages


def paragraphs_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def seed_paragraphs(seed: Path) -> list[str]:
    return paragraphs_of(seed.read_text(encoding="utf-8"))


__all__ = [
    "FeedItem",
    "Page",
    "Site",
    "article_html",
    "korea_related_pages",
    "paragraphs_of",
    "recent",
    "relevance_articles",
    "rss",
    "seed_paragraphs",
]
_ = Path
