"""Feed bytes -> ParsedFeed: RSS 0.9x/1.0/2.0, Atom and JSON Feed, via feedparser.

Entry identity (the key an entry is remembered by, per source):
  1. the guid, when present and unique within this copy of the feed;
  2. otherwise the entry's canonical link.
A guid that is not stable across polls (some CMSs mint a new one on every request) is
caught by the store, which also treats an entry as known when its canonical link is.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import dateutil.parser
import feedparser

from watcher.dedup.urls import canonical_url

__all__ = ["FeedEntry", "ParsedFeed", "parse_feed", "parse_json_feed"]

log = logging.getLogger(__name__)

_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    key: str
    guid: str | None
    link: str
    title: str | None
    published: datetime | None
    authors: tuple[str, ...]
    content: str | None  # the feed's own HTML or text for the entry, longest offered


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    version: str
    title: str | None
    entries: tuple[FeedEntry, ...]
    ill_formed: bool
    problem: str | None  # why feedparser flagged it, when it did
    skipped: tuple[str, ...]  # entries without a usable link, described for the report
    ttl_minutes: int | None = None  # RSS <ttl>: how long the publisher says to wait


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse fetched bytes; never fetches. Raises nothing for bad input: see the fields.

    ``version`` is empty when the bytes are not a feed at all (an HTML page, an error
    page); the caller turns that into a ``not_a_feed`` failure.
    """
    if _is_json(body, content_type):
        return parse_json_feed(body, url=url)
    # feedparser flags a missing content type as ill-formed; an unlabelled body is XML.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers)
    problem = _bozo_reason(parsed)
    raw_entries = list(parsed.entries)
    entries, skipped = _entries(raw_entries, url)
    return ParsedFeed(
        version=str(parsed.get("version") or ""),
        title=_clean(parsed.feed.get("title")),
        entries=tuple(entries),
        ill_formed=bool(parsed.get("bozo")),
        problem=problem,
        skipped=tuple(skipped),
        ttl_minutes=_ttl(parsed.feed.get("ttl")),
    )


def _ttl(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _is_json(body: bytes, content_type: str | None) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") or "json" in (content_type or "").lower()


def parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (jsonfeed.org), which feedparser 6 does not read."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParsedFeed("", None, (), True, f"invalid JSON: {exc}", ())
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return ParsedFeed("", None, (), True, "JSON, but not a JSON Feed (no items list)", ())
    declared = str(document.get("version", ""))
    version = "json11" if declared.rstrip("/").endswith("1.1") else "json10"
    raw_items = document["items"]
    items = [item for item in raw_items if isinstance(item, dict)]
    base = str(document.get("feed_url") or document.get("home_page_url") or url)
    entries, skipped = _entries([_json_item(item, base) for item in items], url)
    problems = [] if "jsonfeed.org" in declared else [f"unknown version {declared!r}"]
    if len(items) != len(raw_items):
        problems.append("items holds values that are not objects")
    ill_formed = bool(problems)
    problem = "; ".join(problems) or None
    return ParsedFeed(
        version, _clean(document.get("title")), tuple(entries), ill_formed, problem, tuple(skipped)
    )


def _json_item(item: dict[str, Any], base: str) -> dict[str, Any]:
    """A JSON Feed item in the shape feedparser gives entries, so one code path follows."""
    link = item.get("url") or item.get("external_url")
    authors = item.get("authors") or (
        [item["author"]] if isinstance(item.get("author"), dict) else []
    )
    published = _rfc3339(item.get("date_published") or item.get("date_modified"))
    content = [
        {"value": str(item[key])} for key in ("content_html", "content_text") if item.get(key)
    ]
    return {
        "id": str(item["id"]) if item.get("id") is not None else None,
        "link": urljoin(base, str(link)) if link else None,
        "title": item.get("title"),
        "published_parsed": published.utctimetuple() if published else None,
        "authors": [a for a in authors if isinstance(a, dict)],
        "content": content,
        "summary": item.get("summary"),
    }


def _rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed"


def _entries(raw_entries: list[Any], feed_url: str) -> tuple[list[FeedEntry], list[str]]:
    guids = Counter(_guid(raw) for raw in raw_entries)
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for position, raw in enumerate(raw_entries):
        link = _link(raw)
        if link is None:
            title = _clean(raw.get("title")) or "(untitled)"
            skipped.append(f"entry {position + 1} {title!r} has no http(s) link")
            continue
        guid = _guid(raw)
        key = guid if guid and guids[guid] == 1 else canonical_url(link)
        entries.append(
            FeedEntry(
                key=key,
                guid=guid,
                link=link,
                title=_clean(raw.get("title")),
                published=_published(raw),
                authors=_authors(raw),
                content=_content(raw),
            )
        )
    if skipped:
        log.warning("feed_entries_without_link", extra={"url": feed_url, "count": len(skipped)})
    return entries, skipped


def _guid(raw: Any) -> str | None:
    value = raw.get("id")
    return str(value).strip() or None if value else None


def _link(raw: Any) -> str | None:
    candidates = [raw.get("link")]
    candidates += [
        link.get("href") for link in raw.get("links", []) if link.get("rel") in (None, "alternate")
    ]
    guid = raw.get("id")
    if raw.get("guidislink") or (
        isinstance(guid, str) and guid.startswith(("http://", "https://"))
    ):
        candidates.append(guid)
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip().lower().startswith(
            ("http://", "https://")
        ):
            return candidate.strip()
    return None


def _published(raw: Any) -> datetime | None:
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict.get would map a missing updated_parsed onto
        # published_parsed with a DeprecationWarning (feedparser issue 310).
        value = dict.get(raw, f"{key}_parsed") if isinstance(raw, dict) else None
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                pass
        text = dict.get(raw, key) if isinstance(raw, dict) else None
        lenient = lenient_date(text) if isinstance(text, str) else None
        if lenient is not None:
            return lenient
    return None


def lenient_date(text: str) -> datetime | None:
    """A date feedparser could not read ("Thu,28 Jul 2022 4:35:5 GMT+9"), read by
    dateutil; a zone-less date is taken as UTC. "GMT+9" means nine hours ahead of
    Greenwich here, as feeds mean it (dateutil alone would read it the POSIX way, behind)."""
    cleaned = _GMT_OFFSET.sub(_offset, text.strip())
    try:
        parsed: datetime = dateutil.parser.parse(cleaned)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _offset(match: re.Match[str]) -> str:
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    return f"{match.group(1)}{hours:02d}{minutes:02d}"


def _authors(raw: Any) -> tuple[str, ...]:
    names = [
        _clean(author.get("name")) for author in raw.get("authors", []) if hasattr(author, "get")
    ]
    found = tuple(name for name in names if name)
    if found:
        return found
    single = _clean(raw.get("author"))
    return (single,) if single else ()


def _content(raw: Any) -> str | None:
    bodies = [part.get("value", "") for part in raw.get("content", []) if hasattr(part, "get")]
    bodies.append(raw.get("summary") or "")
    longest = max(bodies, key=len)
    return longest or None


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None
