"""A page's metadata as trafilatura reads it, without the fields watcher never uses.

``trafilatura.metadata.extract_metadata`` also collects categories, tags and a licence;
on the extraction benchmark those three cost 0.75 s of CPU over 181 pages (a tenth of an
extraction), and no stage of watcher reads them. This is the same sequence of
trafilatura's own readers (meta tags, JSON-LD, title, author, canonical URL, htmldate,
site name) without them. ``tests/extraction/test_metadata.py`` holds it to
``extract_metadata`` field by field on every page of the benchmark, so a trafilatura
release that changes the sequence is caught. The byline is found by
``watcher.extraction.authors`` (the same answer, a third of the CPU); the host name,
which trafilatura derives from the URL, is left out because nothing reads it.
"""

from __future__ import annotations

import logging
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document

from watcher.extraction.authors import find_author

__all__ = ["USED_FIELDS", "read_metadata"]

log = logging.getLogger(__name__)

# What watcher reads of a Document's metadata (page.py); the test compares these.
USED_FIELDS = ("title", "author", "url", "date", "sitename")


def read_metadata(tree: HtmlElement, url: str | None, date_params: dict[str, Any]) -> Document:
    """Title, author, canonical URL, date and site name of a parsed page. Reads the tree
    only (trafilatura's readers copy before they prune)."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a one-word "author" is a site or a handle
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as exc:  # trafilatura guards its JSON-LD reader the same way
        log.debug("json_metadata_failed", extra={"url": url, "error": repr(exc)})
    metadata.title = metadata.title or extract_title(tree)
    metadata.author = metadata.author or find_author(tree)
    metadata.url = metadata.url or extract_url(tree, url)
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    metadata.sitename = _sitename(tree, metadata)
    metadata.clean_and_trim()
    return metadata


def _sitename(tree: HtmlElement, metadata: Document) -> str | None:
    sitename = metadata.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
        return sitename
    if metadata.url and (match := META_URL.match(metadata.url)):
        return match[1]
    return None
