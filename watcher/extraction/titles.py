"""The article's title, chosen from the feed's, the page's headline and its ``<title>``.

A page's ``<title>`` is written for a browser tab and a search engine: it carries the
site's name ("... | Yonhap News Agency", "Bloomberg.com: Japan"), and on some sites it
is the same for every page ("CMH Homepage"). The feed's title and the page's own
headline are written for the article. So they are preferred in that order, each with
any site affix cut, and a candidate that is generic or only the site's name never wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

__all__ = ["PageTitles", "best_title", "read_titles"]

# Separators between a title and a site's name; ㅣ (a Hangul letter) is used as a bar.
_SEPARATOR = re.compile(r"\s+[|\-–—:·•»]\s+|\s*[|ㅣ｜]\s*|\s+::\s+|(?<=\S):\s+(?=\S)")
_GENERIC_WORDS = frozenset(
    [
        "home",
        "homepage",
        "page",
        "index",
        "welcome",
        "main",
        "default",
        "untitled",
        "news",
        "latest",
        "breaking",
        "top",
        "headlines",
        "stories",
        "story",
        "articles",
        "article",
        "online",
        "official",
        "site",
        "website",
        "web",
        "portal",
        "and",
        "the",
        "of",
        "for",
        "to",
        "a",
        "&",
        "-",
        "search",
        "results",
        "error",
        "404",
        "not",
        "found",
        "access",
        "denied",
        "loading",
        "just",
        "moment",
        "redirecting",
        "sign",
        "in",
        "log",
        "login",
        "navigation",
        "menu",
        "skip",
        "content",
        "main",
    ]
)
_GENERIC_PHRASES = ("homepage", "home page", "page not found", "just a moment")
_HOST_NOISE = frozenset(
    [
        "www",
        "m",
        "amp",
        "en",
        "ko",
        "ru",
        "de",
        "com",
        "net",
        "org",
        "co",
        "kr",
        "jp",
        "uk",
        "ru",
        "gov",
        "edu",
        "info",
    ]
)
_TRUNCATED = ("...", "…")
_MIN_WORDS = 4  # a feed title shorter than this loses to the page's headline
_MIN_UNSPACED = 8


@dataclass(frozen=True, slots=True)
class PageTitles:
    """What a page says its title is, read before extraction prunes the tree."""

    headline: str | None  # its one <h1> (or the first inside <article>), else og:title
    html_title: str | None  # <title>
    site_name: str | None  # og:site_name or application-name


def read_titles(tree: HtmlElement) -> PageTitles:
    """The title candidates and the site's name a parsed page declares."""
    return PageTitles(
        headline=_headline(tree),
        html_title=_first_text(tree.xpath("//head/title|//title")),
        site_name=_meta(tree, "og:site_name") or _meta(tree, "application-name"),
    )


def best_title(
    feed_title: str | None,
    page: PageTitles,
    extracted: str | None,
    *,
    url: str,
    site_names: Iterable[str | None] = (),
) -> str | None:
    """The feed's title, else the page's headline, else trafilatura's, else <title>, with
    site affixes cut; a generic or site-only title is passed over. A feed title too short
    to say what the article is ("Report", "A") or cut short ("...") gives way to the
    page's own headline."""
    candidates = [feed_title, page.headline, extracted, page.html_title]
    # trafilatura derives a site name from <title> when a page declares none, and then
    # it may be the headline itself: a name that is a whole candidate names no site.
    whole = {_squash(c) for c in candidates if c}
    names = [name for name in [page.site_name, *site_names] if name and _squash(name) not in whole]
    sites = _site_keys(names, url)
    feed, *on_page = [_usable(c, sites) for c in candidates]
    page_titles = [title for title in on_page if title]
    if feed is None or not page_titles:
        return feed or (page_titles[0] if page_titles else None)
    if feed.endswith(_TRUNCATED):
        stem = _fold(feed.rstrip(".… "))
        return next((t for t in page_titles if _fold(t).startswith(stem)), feed)
    return feed if _substantial(feed) else page_titles[0]


def _usable(title: str | None, sites: frozenset[str]) -> str | None:
    if not title or not title.strip():
        return None
    cleaned = _strip_site(title, sites)
    return cleaned if cleaned and not _generic(cleaned, sites) else None


def _substantial(title: str) -> bool:
    """Long enough to name an article: four words, or eight letters of a script written
    without spaces (Chinese, Japanese)."""
    return len(title.split()) >= _MIN_WORDS or (
        " " not in title and not title.isascii() and len(title) >= _MIN_UNSPACED
    )


def _headline(tree: HtmlElement) -> str | None:
    in_article = tree.xpath("//article//h1")
    all_h1 = [h for h in tree.xpath("//body//h1") if _text(h)]
    if in_article and _text(in_article[0]):
        return _text(in_article[0])
    if len(all_h1) == 1:
        return _text(all_h1[0])
    return _meta(tree, "og:title") or _meta(tree, "twitter:title")


def _meta(tree: HtmlElement, name: str) -> str | None:
    for element in tree.xpath(f'//meta[@property="{name}" or @name="{name}"]'):
        value = " ".join(str(element.get("content") or "").split())
        if value:
            return value
    return None


def _first_text(elements: list[HtmlElement]) -> str | None:
    for element in elements:
        text = _text(element)
        if text:
            return text
    return None


def _text(element: HtmlElement) -> str | None:
    return " ".join(element.text_content().split()) or None


def _site_keys(names: Iterable[str | None], url: str) -> frozenset[str]:
    keys = {_squash(name) for name in names if name}
    host = (urlsplit(url).hostname or "").lower()
    keys |= {label for label in host.split(".") if label not in _HOST_NOISE}
    return frozenset(key for key in keys if len(key) >= 2)


def _strip_site(title: str, sites: frozenset[str]) -> str:
    """The title without leading or trailing segments that name the site."""
    title = " ".join(title.split())
    parts = _SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    separators = _SEPARATOR.findall(title)
    while len(parts) > 1 and _is_site(parts[-1], sites):
        parts.pop()
        separators.pop()
    while len(parts) > 1 and _is_site(parts[0], sites):
        parts.pop(0)
        separators.pop(0)
    rebuilt = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        rebuilt += separator + part
    return rebuilt.strip()


def _is_site(segment: str, sites: frozenset[str]) -> bool:
    squashed = _squash(segment)
    if not squashed:
        return True
    for tld in ("com", "net", "org", "cokr", "kr", "ru"):
        if squashed.endswith(tld) and squashed[: -len(tld)] in sites:
            return True
    if squashed in sites:
        return True
    # "Yonhap News Agency" for a source named Yonhap: a short segment led by a site key.
    words = segment.split()
    return len(words) <= 4 and any(len(key) >= 4 and squashed.startswith(key) for key in sites)


def _generic(title: str, sites: frozenset[str]) -> bool:
    folded = title.casefold()
    if any(phrase in folded for phrase in _GENERIC_PHRASES):
        return True
    if _is_site(title, sites):
        return True
    words = [w for w in re.split(r"[\s\-–—|:,.!]+", folded) if w]
    if not words:
        return True
    # A slug ("north-korea-missile-launch") stands where a feed lacked a title.
    if re.fullmatch(r"[a-z0-9]+(?:[-_][a-z0-9]+){2,}", title.strip()):
        return True
    return all(w in _GENERIC_WORDS or w in _HOST_NOISE or _squash(w) in sites for w in words)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())
