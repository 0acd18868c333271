"""Identity of articles: canonical URLs and content fingerprints. Pure functions.

URL rules (version ``URL_RULES_VERSION``; stored beside every URL key so a later change
of rules re-keys the lookup index, never a filed article):
  - courlan's normalisation: lower-case scheme and host, default ports dropped, fragment
    dropped, tracking parameters (utm_*, fbclid, gclid, mc_*, ...) dropped, remaining
    query parameters sorted. Not its strict mode: that keeps only an allow-list of
    parameters and so merges different articles (``view.php?idxno=123``);
  - ``www.`` dropped from the host; a trailing slash dropped from the path;
  - AMP and print variants folded: ``/amp`` path segments, ``.amp`` suffixes,
    ``amp``/``output=amp``/``print``/``view=print`` parameters.

Content rules: the text is normalised (Unicode NFKC, case-folded, quotes, dashes and
punctuation to spaces, whitespace collapsed) and hashed whole; paragraphs long enough
to be distinctive are hashed one by one, so a copy with other furniture (a masthead,
captions, a "first appeared at" line) still shares most of its paragraph hashes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "URL_RULES_VERSION",
    "canonical_url",
    "file_key",
    "normalize_text",
    "paragraph_hashes",
    "paragraphs",
    "text_hash",
    "trusted_canonical",
    "url_hash",
]

URL_RULES_VERSION = 1

_AMP_PRINT_PARAMS = frozenset({"amp", "output", "outputtype", "print", "view", "format"})
_AMP_PRINT_VALUES = frozenset({"", "1", "true", "amp", "print", "printable"})
_SECTION = re.compile(r"/[a-z]{1,20}")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MIN_PARAGRAPH_WORDS = 8
_MIN_PARAGRAPH_CHARS = 40  # for scripts written without spaces between words


def canonical_url(url: str) -> str:
    """The URL an article is known by. Unparseable input comes back stripped, unchanged."""
    # courlan (and urllib3 under it) loads on first use: commands that only read the
    # database never canonicalise a URL, and start 40 ms sooner.
    from courlan import normalize_url

    url = url.strip()
    try:
        normalized = normalize_url(url, strict=False)
    except (ValueError, AttributeError):
        return url
    parts = urlsplit(normalized)
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = _fold_amp_path(parts.path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = _fold_amp_query(parts.query)
    return urlunsplit((parts.scheme.lower(), host, path or "/", query, ""))


def _fold_amp_path(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment.lower() not in ("amp", "print")]
    path = "/".join(segments)
    for suffix in (".amp.html", ".amp"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)] + (".html" if suffix == ".amp.html" else "")
    return path if path.startswith("/") else "/" + path


def _fold_amp_query(query: str) -> str:
    kept = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not (key.lower() in _AMP_PRINT_PARAMS and value.lower() in _AMP_PRINT_VALUES)
    ]
    return urlencode(kept)


def url_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def file_key(canonical: str) -> str:
    """The 16 hex digits in a corpus file name (DESIGN.md, corpus folder)."""
    return url_hash(canonical)[:16]


def trusted_canonical(declared: str | None, page_url: str) -> str | None:
    """The page's declared canonical URL, when it can be believed.

    Many sites declare their home page or a section page as the canonical of every
    article, or point it at another site; those are ignored. (A canonical that many
    different texts share is caught by the store, which knows the texts.)
    """
    if not declared or not declared.lower().startswith(("http://", "https://")):
        return None
    declared_c, page_c = canonical_url(declared), canonical_url(page_url)
    declared_parts, page_parts = urlsplit(declared_c), urlsplit(page_c)
    if declared_parts.netloc != page_parts.netloc:
        return None
    declared_path = declared_parts.path.rstrip("/")
    if not declared_path:
        return None
    page_path = page_parts.path.rstrip("/")
    if page_path != declared_path and page_path.startswith(declared_path + "/"):
        return None  # a section the article sits in
    if _SECTION.fullmatch(declared_path) and page_path.count("/") > 1 and not declared_parts.query:
        return None  # a one-word section ("/news") declared for a deeper article
    return declared_c


def normalize_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[str]:
    """Non-empty lines: the corpus format keeps one paragraph per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def paragraph_hashes(text: str) -> list[str]:
    """Hashes of the paragraphs distinctive enough to identify an article, in order."""
    hashes: list[str] = []
    for paragraph in paragraphs(text):
        normalized = normalize_text(paragraph)
        words = normalized.count(" ") + 1
        if words >= _MIN_PARAGRAPH_WORDS or (words < 3 and len(normalized) >= _MIN_PARAGRAPH_CHARS):
            digest = hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16]
            if digest not in hashes:
                hashes.append(digest)
    return hashes
