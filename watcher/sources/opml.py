"""OPML in and out: the subscription lists feed readers exchange.

The configuration file stays the one source of truth for sources. ``import_opml``
appends ``[[sources]]`` tables to it as text, so the user's comments and layout stay as
they were, and only after the new file has loaded and validated (a bad import never
leaves a broken configuration). ``export_opml`` writes OPML 2.0.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from watcher.config import SourceConfig, load_config
from watcher.corpus import write_atomically
from watcher.errors import ConfigError

__all__ = [
    "ImportReport",
    "OpmlDocument",
    "OpmlError",
    "OpmlFeed",
    "export_opml",
    "import_opml",
    "read_opml",
    "toml_string",
]

_URL = TypeAdapter(AnyHttpUrl)
_TAG = re.compile(r"[^a-z0-9]+")


class OpmlError(ValueError):
    """The file is not OPML watcher can read; the message says why."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    name: str
    url: str
    homepage: str | None
    tags: tuple[str, ...]  # the folders it sits in
    language: str | None


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    feeds: tuple[OpmlFeed, ...]
    problems: tuple[str, ...]  # places the parser could not read


@dataclass
class ImportReport:
    added: list[OpmlFeed] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name or URL, why)


def read_opml(data: bytes, *, origin: str = "OPML") -> OpmlDocument:
    """Every outline with an ``xmlUrl``, in document order; folders become tags.

    Exports found in the wild break XML (a quote left unescaped in a title): the parser
    recovers what it can, and each place it could not read is reported, so a lost
    outline is said, not silently dropped."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"{origin}: not XML: {exc}") from None
    if root is None or root.tag != "opml" or root.find("body") is None:
        raise OpmlError(f"{origin}: not OPML (no <opml> with a <body>)")
    problems = tuple(
        f"{origin}: line {error.line}: {error.message.strip()} (an outline there may be lost)"
        for error in parser.error_log
        if error.level >= etree.ErrorLevels.ERROR
    )
    feeds: list[OpmlFeed] = []
    _walk(root.find("body"), (), feeds)
    return OpmlDocument(tuple(feeds), problems)


def _walk(node: Any, folders: tuple[str, ...], feeds: list[OpmlFeed]) -> None:
    for outline in node.findall("outline"):
        label = _clean(outline.get("title") or outline.get("text"))
        url = _clean(outline.get("xmlUrl") or outline.get("xmlurl"))
        if url:
            tags = tuple(dict.fromkeys([*folders, *_categories(outline.get("category"))]))
            feeds.append(
                OpmlFeed(
                    name=label or url,
                    url=url,
                    homepage=_clean(outline.get("htmlUrl")),
                    tags=tags,
                    language=_clean(outline.get("language")),
                )
            )
        folder = _tag(label) if label and not url else None
        _walk(outline, (*folders, folder) if folder else folders, feeds)


def _categories(value: str | None) -> list[str]:
    """OPML 2.0 ``category="/News/Asia,/Korea"``: the last part of each path."""
    parts = [path.strip("/").split("/")[-1] for path in (value or "").split(",")]
    return [tag for part in parts if (tag := _tag(part))]


def _tag(text: str) -> str | None:
    return _TAG.sub("-", text.lower()).strip("-") or None


def _clean(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None


def import_opml(config_path: Path, feeds: Sequence[OpmlFeed]) -> ImportReport:
    """Append the feeds the configuration lacks (by feed URL) to the file; report the
    others with the reason. Raises ConfigError if the configuration does not load."""
    config = load_config(config_path)
    known_urls = {source.feed_url for source in config.sources}
    names = {source.name for source in config.sources}
    report = ImportReport()
    blocks: list[str] = []
    for feed in feeds:
        try:
            url = str(_URL.validate_python(feed.url))
        except ValidationError:
            report.skipped.append((feed.name, f"not an http(s) URL: {feed.url}"))
            continue
        if url in known_urls:
            report.skipped.append((feed.name, "already configured"))
            continue
        name = _unique(feed.name, names)
        names.add(name)
        known_urls.add(url)
        blocks.append(_toml_block(feed, name, url))
        report.added.append(feed)
    if blocks:
        _append(config_path, blocks)
    return report


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def _toml_block(feed: OpmlFeed, name: str, url: str) -> str:
    lines = [
        "[[sources]]",
        "# Imported from OPML.",
        f"name = {toml_string(name)}",
        f"url = {toml_string(url)}",
    ]
    if feed.homepage and feed.homepage.lower().startswith(("http://", "https://")):
        lines.append(f"homepage = {toml_string(feed.homepage)}")
    if feed.language:
        lines.append(f"language = {toml_string(feed.language)}")
    if feed.tags:
        lines.append("tags = [" + ", ".join(toml_string(tag) for tag in feed.tags) + "]")
    return "\n".join(lines)


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _append(config_path: Path, blocks: list[str]) -> None:
    """Write the longer file only once it loads: the old file stays if it would not."""
    original = config_path.read_text(encoding="utf-8")
    updated = original.rstrip("\n") + "\n\n" + "\n\n".join(blocks) + "\n"
    trial = config_path.with_name(f".{config_path.name}.import")
    trial.write_text(updated, encoding="utf-8")
    try:
        load_config(trial)
    except ConfigError as exc:
        raise ConfigError(str(config_path), [f"the import would not load: {exc}"]) from None
    finally:
        trial.unlink()
    write_atomically(config_path, updated)


def export_opml(sources: list[SourceConfig], *, now: datetime | None = None) -> str:
    """OPML 2.0, one outline per source, its tags as categories."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "watcher sources"
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {"type": "rss", "text": source.name, "title": source.name}
        attributes["xmlUrl"] = source.feed_url
        if source.homepage:
            attributes["htmlUrl"] = str(source.homepage)
        attributes["language"] = source.language
        if source.tags:
            attributes["category"] = ",".join(f"/{tag}" for tag in source.tags)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
