"""Listing pages -> ParsedFeed: a site with no usable feed, read from the page that
lists its articles. A CSS selector (the source's ``selector``) picks out the article
links; everything downstream treats them like feed entries."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html

from watcher.dedup.urls import canonical_url
from watcher.extraction.page import decode_html
from watcher.sources.feeds import FeedEntry, ParsedFeed
from watcher.sources.selectors import css_to_xpath

__all__ = ["css_to_xpath", "matching", "parse_listing"]


def parse_listing(body: bytes, *, url: str, content_type: str | None, selector: str) -> ParsedFeed:
    """The links the selector picks, in page order, each once. A matched element that
    is not a link stands for the first link inside it (a card, a list item). Version is
    empty when the selector matches nothing: after a redesign, a listing source fails
    loudly instead of going quiet."""
    html = decode_html(body, content_type)
    if not html.strip():
        return ParsedFeed("", None, (), True, "the page is empty", ())
    document = lxml.html.fromstring(html)
    base = urljoin(url, _base(document) or url)
    matched = document.xpath(css_to_xpath(selector))
    entries: dict[str, FeedEntry] = {}
    skipped: list[str] = []
    for element in matched:
        anchor = element if element.tag == "a" else next(element.iterfind(".//a[@href]"), None)
        href = anchor.get("href") if anchor is not None else None
        if anchor is None or not href:
            skipped.append(f"a matched <{element.tag}> holds no link")
            continue
        link = urljoin(base, href.strip())
        if not link.lower().startswith(("http://", "https://")):
            skipped.append(f"not an http(s) link: {href[:100]}")
            continue
        key = canonical_url(link)
        title = " ".join(anchor.text_content().split()) or None
        entries.setdefault(key, FeedEntry(key, None, link, title, None, (), None))
    title = " ".join((document.findtext(".//title") or "").split()) or None
    if not matched:
        return ParsedFeed("", title, (), True, f"the selector {selector!r} matched nothing", ())
    return ParsedFeed("listing", title, tuple(entries.values()), False, None, tuple(skipped))


def _base(document: lxml.html.HtmlElement) -> str | None:
    found = document.xpath("//base/@href")
    return str(found[0]) if found else None


def matching(entries: tuple[FeedEntry, ...], pattern: str | None) -> tuple[FeedEntry, ...]:
    """The entries whose link the source's ``url_pattern`` finds (all without one)."""
    if not pattern:
        return entries
    compiled = re.compile(pattern)
    return tuple(entry for entry in entries if compiled.search(entry.link))
