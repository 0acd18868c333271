"""The filtered stream as Atom (RFC 4287): the relevant articles, newest first, for any
feed reader. ``watcher export atom`` writes it; the daemon serves it at ``/feed.atom``.

Each entry: the article's title and link, its source as author when no author is
known, when it was published and found, its first sentences as the summary, and its
ties as categories. Entry ids are the article URLs (stable: a reader marks an entry read
once, whatever watcher does later).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from watcher.delivery.digest.content import excerpt, tie_title
from watcher.store import Candidate, Store

__all__ = ["ATOM_TYPE", "atom_feed", "relevant_feed"]

ATOM_TYPE = "application/atom+xml; charset=utf-8"
_NS = "http://www.w3.org/2005/Atom"
_XML_FORBIDDEN = dict.fromkeys([*range(9), 11, 12, *range(14, 32)])  # not allowed in XML 1.0


def relevant_feed(
    store: Store, label: str | None = None, *, since: datetime | None = None, limit: int = 100
) -> str:
    """The relevant articles (of one tie) as Atom, newest first."""
    items = store.relevant_items(label=label, since=since, limit=limit)
    title = f"watcher: {tie_title(label)}" if label else "watcher: the beat"
    return atom_feed(items, title=title, feed_id=f"urn:watcher:feed:{label or 'all'}")


def atom_feed(
    items: Sequence[Candidate],
    *,
    title: str,
    feed_id: str,
    self_url: str | None = None,
    now: datetime | None = None,
) -> str:
    ET.register_namespace("", _NS)
    feed = ET.Element(f"{{{_NS}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_id)
    newest = max((_found(item) for item in items), default=None)
    _text(feed, "updated", _iso(newest or now or datetime.now(UTC)))
    _text(feed, "generator", "watcher")
    if self_url:
        ET.SubElement(feed, f"{{{_NS}}}link", rel="self", href=self_url, type=ATOM_TYPE)
    for item in items:
        _entry(feed, item)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry(feed: ET.Element, item: Candidate) -> None:
    entry = ET.SubElement(feed, f"{{{_NS}}}entry")
    _text(entry, "id", item.url or f"urn:watcher:item:{item.id}")
    _text(entry, "title", item.title or item.url or f"article {item.id}")
    if item.url:
        ET.SubElement(entry, f"{{{_NS}}}link", rel="alternate", href=item.url)
    found = _found(item)
    _text(entry, "updated", _iso(found))
    if item.published:
        _text(entry, "published", _iso(item.published))
    for name in item.authors or ((item.source,) if item.source else ()):
        author = ET.SubElement(entry, f"{{{_NS}}}author")
        _text(author, "name", name)
    for tie in item.labels:
        ET.SubElement(entry, f"{{{_NS}}}category", term=tie, label=tie_title(tie))
    summary = excerpt(item.lede, item.title)
    if summary:
        _text(entry, "summary", summary)
    if item.source:
        source = ET.SubElement(entry, f"{{{_NS}}}source")
        _text(source, "title", item.source)


def _found(item: Candidate) -> datetime:
    return item.fetched or item.published or datetime(1970, 1, 1, tzinfo=UTC)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{_NS}}}{tag}").text = value.translate(_XML_FORBIDDEN)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
