"""``watcher items search``: the stored articles by the words in their titles and texts.

SQLite searches an FTS5 index (``items_fts``), PostgreSQL a ``tsvector`` column with a
GIN index (``items.search``); both are kept by the database itself (triggers, a
generated column; migration 0007), so no writer can forget them.

A query is the user's words: it is cut into word tokens (letters and digits of any
script), each searched as a prefix, all required. Words in double quotes are a phrase:
found only next to each other, in that order. A light stemmer cuts what a prefix cannot
reach: a Korean particle (북한은 -> 북한), a Russian ending (России -> росси, which finds
Россия, России, Россией), an English plural. A middle dot inside a compound (북·러,
日・ロ) is no boundary: the index (migration 0009) and the query both drop it, so 북러
finds 북·러. Operators and SQL in a query are just characters that are not words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["MIDDLE_DOTS", "Hit", "SearchQuery", "parse_query", "search_terms"]

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-яё]")
_RUSSIAN_ENDING = re.compile(
    r"(ями|ами|ией|иях|ого|его|ому|ему|ой|ей|ий|ый|ая|яя|ия|ие|ые|ов|ев|[аяоеёиыуюьй])$"
)
_KOREAN_PARTICLE = re.compile(r"(에서|으로|에게|까지|부터|과|와|은|는|이|가|을|를|의|에|도|로|만)$")
_HANGUL = re.compile(r"[가-힣]")
_MAX_TERMS = 12
MIDDLE_DOTS = "\u00b7\u30fb\uff65\u318d\u2027"  # as migration 0009 indexes them
_DOTS = str.maketrans("", "", MIDDLE_DOTS)
_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...] = ()  # each: terms next to each other, in order
    label: str | None = None
    source: str | None = None
    since: datetime | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    title: str | None
    url: str | None
    source: str | None
    published: datetime | None
    labels: tuple[str, ...]
    relevant: bool
    snippet: str
    file: str | None


def parse_query(query: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The loose terms and the quoted phrases of a query (a phrase of one word is a
    term; an unclosed quote is just a character)."""
    phrases: list[tuple[str, ...]] = []
    terms: list[str] = []
    for quoted in _QUOTED.findall(query):
        words = search_terms(quoted)
        if len(words) > 1:
            phrases.append(words)
        else:
            terms += words
    terms += search_terms(_QUOTED.sub(" ", query))
    return tuple(dict.fromkeys(terms))[:_MAX_TERMS], tuple(dict.fromkeys(phrases))


def search_terms(query: str) -> tuple[str, ...]:
    """The query's words as prefixes to search for, lower-cased and lightly stemmed."""
    terms: list[str] = []
    words = [word.strip("_") for word in _WORD.findall(query.lower().translate(_DOTS))]
    words = [word for word in words if word]
    if len(words) > 1:
        words = [word for word in words if len(word) > 1]  # "Russia's" -> russia, not s*
    for word in words:
        terms.append(_stem(word))
    return tuple(dict.fromkeys(terms))[:_MAX_TERMS]


def _stem(word: str) -> str:
    if _HANGUL.search(word) and len(word) >= 3:
        return _KOREAN_PARTICLE.sub("", word) or word
    if _CYRILLIC.search(word) and len(word) >= 5:
        stemmed = _RUSSIAN_ENDING.sub("", word)
        return stemmed if len(stemmed) >= 3 else word
    if word.isascii() and len(word) >= 5 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def fts5_match(terms: tuple[str, ...], phrases: tuple[tuple[str, ...], ...] = ()) -> str:
    """An FTS5 MATCH expression: each term a quoted prefix, each phrase its terms joined
    by ``+`` (next to each other); terms hold word characters only, so the quotes
    cannot be closed early."""
    parts = [f'"{term}"*' for term in terms]
    parts += [" + ".join(f'"{term}"*' for term in phrase) for phrase in phrases]
    return " AND ".join(parts)


def tsquery(terms: tuple[str, ...], phrases: tuple[tuple[str, ...], ...] = ()) -> str:
    """A PostgreSQL to_tsquery('simple', ...) expression of the same meaning."""
    parts = [f"{term}:*" for term in terms]
    parts += ["(" + " <-> ".join(f"{term}:*" for term in phrase) + ")" for phrase in phrases]
    return " & ".join(parts)
