"""Topics as data: the parties of each tie and the words that name them.

The defaults ship in ``watcher/data/topics.toml``; a configuration's ``[[parties]]`` and
``[[topics]]`` tables replace a default of the same name or add new ones, so a user can
follow another tie (say China-North Korea) without touching code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "DEFAULT_TOPICS",
    "Lexicon",
    "Party",
    "Topic",
    "build_lexicon",
    "default_lexicon",
    "look_ahead",
]

DEFAULT_TOPICS = Path(__file__).parent.parent / "data" / "topics.toml"


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    pattern: re.Pattern[str]
    anchors: tuple[str, ...] | None  # None: unknown, so the party may always be present
    # The party's own media speak of it in the first person ("our state"): ``voice``
    # names the party in a text whose opening matches ``voice_when`` (a dateline).
    voice: re.Pattern[str] | None = None
    voice_when: re.Pattern[str] | None = None
    # a sentence matching this names the party only as a member of a group (Russia in
    # the six-party talks): it does not count there
    participant: re.Pattern[str] | None = None

    def may_be_in(self, text: str) -> bool:
        return self.anchors is None or any(anchor in text for anchor in self.anchors)


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    parties: tuple[str, str]
    terms: re.Pattern[str] | None  # name the tie by themselves (and so both parties)
    context_terms: re.Pattern[str] | None  # do so only with a party named nearby
    anchors: tuple[str, ...] | None
    observer: str | None  # a third party whose presence makes this tie's evidence weaker
    pair_weight: float  # both parties in one sentence
    near_weight: float  # one party in the sentence, the other in a neighbouring one


@dataclass(frozen=True, slots=True)
class Lexicon:
    parties: Mapping[str, Party]
    topics: tuple[Topic, ...]
    relation: re.Pattern[str]
    # a party named as the source of a report ("according to Seoul's spy agency")
    attribution: re.Pattern[str] | None = None
    # a party named only as the reporter ("South Korea's military said"): such a span
    # does not name its party in a sentence that also matches ``saying``
    source: re.Pattern[str] | None = None
    saying: re.Pattern[str] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(topic.name for topic in self.topics)

    def may_score(self, text: str) -> bool:
        """False only when no topic can find evidence in the text: a cheap test on plain
        substrings that lets most off-beat pages skip the patterns."""
        lowered = " ".join(text.lower().split())
        return any(self._topic_may_score(topic, lowered) for topic in self.topics)

    def _topic_may_score(self, topic: Topic, lowered: str) -> bool:
        a, b = (self.parties[name].may_be_in(lowered) for name in topic.parties)
        named = topic.terms is not None and (
            topic.anchors is None or any(anchor in lowered for anchor in topic.anchors)
        )
        return named or (a and b) or (topic.context_terms is not None and (a or b))


def default_lexicon() -> Lexicon:
    return _defaults()


@cache
def _defaults() -> Lexicon:
    return build_lexicon((), ())


def build_lexicon(
    parties: Sequence[Mapping[str, Any]], topics: Sequence[Mapping[str, Any]]
) -> Lexicon:
    """The defaults with these tables laid over them (by name). Raises ValueError naming
    the entry for a bad pattern or an unknown party."""
    data = tomllib.loads(DEFAULT_TOPICS.read_text(encoding="utf-8"))
    party_tables = _merge(data["parties"], parties)
    topic_tables = _merge(data["topics"], topics)
    built = {t["name"]: _party(t) for t in party_tables}
    return Lexicon(
        parties=built,
        topics=tuple(_topic(t, built) for t in topic_tables),
        relation=_compile("relation", data["relation"]["terms"]),
        attribution=_compile("attribution", data["attribution"]["terms"]),
        source=_compile("source", data["source"]["terms"]),
        saying=_compile("source saying", data["source"]["saying"]),
    )


def _merge(
    defaults: list[dict[str, Any]], overrides: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    merged = {table["name"]: dict(table) for table in defaults}
    for table in overrides:
        merged[table["name"]] = dict(table)
    return list(merged.values())


def _party(table: Mapping[str, Any]) -> Party:
    name, anchors = table["name"], table.get("anchors")
    voice, voice_when = table.get("voice") or [], table.get("voice_when") or []
    if bool(voice) != bool(voice_when):
        raise ValueError(f"party {name!r}: voice and voice_when go together")
    participant = table.get("participant") or []
    return Party(
        name=name,
        pattern=_compile(f"party {name!r}", table["terms"]),
        anchors=tuple(anchors) if anchors else None,
        voice=_compile(f"party {name!r} voice", voice) if voice else None,
        voice_when=_compile(f"party {name!r} voice_when", voice_when) if voice_when else None,
        participant=_compile(f"party {name!r} participant", participant) if participant else None,
    )


def _topic(table: Mapping[str, Any], parties: Mapping[str, Party]) -> Topic:
    name = table["name"]
    pair = tuple(table["parties"])
    for party in (*pair, table.get("observer") or pair[0]):
        if party not in parties:
            raise ValueError(f"topic {name!r} names unknown party {party!r}")
    if len(pair) != 2:
        raise ValueError(f"topic {name!r} needs exactly two parties")
    terms, context = table.get("terms") or [], table.get("context_terms") or []
    anchors = table.get("anchors")
    return Topic(
        name=name,
        parties=(pair[0], pair[1]),
        terms=_compile(f"topic {name!r}", terms) if terms else None,
        context_terms=_compile(f"topic {name!r}", context) if context else None,
        anchors=tuple(anchors) if anchors else None,
        observer=table.get("observer") or None,
        pair_weight=float(table.get("pair_weight", 1.0)),
        near_weight=float(table.get("near_weight", 0.5)),
    )


def _compile(owner: str, patterns: Sequence[str]) -> re.Pattern[str]:
    """One pattern over lower-cased text: IGNORECASE makes Python's re several times
    slower on alternations like these, so the text is lower-cased once instead."""
    joined = "|".join(f"(?:{p})" for p in patterns)
    if joined != joined.lower():
        raise ValueError(f"{owner}: patterns must be lower case ({joined[:60]!r}...)")
    try:
        re.compile(joined)
        rewritten = "|".join(_letter_first(b) for p in patterns for b in _branches(p))
        return re.compile(look_ahead(rewritten))
    except re.error as exc:
        raise ValueError(f"{owner}: bad pattern: {exc}") from exc


# "\bn" at the start of a branch: a word boundary, then a letter not repeated
_BOUNDARY_LETTER = re.compile(r"\\b([^\W\d_])(?![?*+{])")


def _letter_first(branch: str) -> str:
    """``\\bnorth`` -> ``n(?<!\\wn)orth``: the same matches, but re skips ahead to the
    letters an alternation can start with only when every branch starts with one, not
    with an assertion (three times faster on the parties' patterns)."""
    found = _BOUNDARY_LETTER.match(branch)
    if found is None:
        return branch
    letter = found[1]
    return f"{letter}(?<!\\w{letter}){branch[found.end() :]}"


def look_ahead(pattern: str) -> str:
    """``(?=[a-z가])(?:...)``: the characters a match can start with, ahead of a pattern
    whose branches begin with a group or an assertion. re skips ahead on its own only
    when each branch begins with a letter; otherwise it tries every branch at every
    position, and one look at the next character is two to six times faster on
    patterns like the participant's ("(?:u\\.s\\.|japan|...)[\\s-]+..."). The pattern is
    left as it is when re skips ahead already, or when its first characters cannot be
    told (a class like ``\\w``, a pattern that matches the empty string)."""
    if all(branch[:1].isalpha() for branch in _branches(pattern)):
        return pattern  # re skips ahead by itself: no need to parse (a millisecond)
    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & ~sre.SRE_FLAG_UNICODE or _skips_ahead(parsed.data):
            return pattern  # flags: "(?i)" must stay first, and case would widen the class
        found, nullable = _first(parsed.data)
    except (AttributeError, TypeError, ValueError):  # re's parser, private, has changed
        return pattern
    if found is None or nullable or not found:
        return pattern
    return f"(?=[{''.join(sorted(found))}])(?:{pattern})"


def _skips_ahead(items: list[Any]) -> bool:
    """Whether re finds this pattern's first character by itself: it begins with a
    letter or a class, or is a choice of branches that each begin with a letter."""
    while items and items[0][0] is sre.SUBPATTERN:
        items = items[0][1][-1].data
    if not items:
        return False
    op, value = items[0]
    if op is sre.BRANCH:
        return all(branch and branch[0][0] is sre.LITERAL for branch in value[1])
    return op in (sre.LITERAL, sre.IN)


def _first(items: Sequence[Any]) -> tuple[set[str] | None, bool]:
    """The characters (as class items) a match of ``items`` can begin with, and whether
    it can match the empty string; None when that cannot be told."""
    found: set[str] = set()
    for op, value in items:
        here, nullable = _first_of(op, value)
        if here is None:
            return None, False
        found |= here
        if not nullable:
            return found, False
    return found, True


def _first_of(op: Any, value: Any) -> tuple[set[str] | None, bool]:
    if op is sre.LITERAL:
        return {re.escape(chr(value))}, False
    if op is sre.IN:
        return _class_items(value), False
    if op is sre.SUBPATTERN:
        _group, flags_on, _flags_off, items = value
        return (None, False) if flags_on else _first(items.data)
    if op is sre.BRANCH:
        found: set[str] = set()
        nullable = False
        for branch in value[1]:
            here, empty = _first(branch)
            if here is None:
                return None, False
            found |= here
            nullable |= empty
        return found, nullable
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):  # zero width: what follows decides
        return set(), True
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, _high, item = value
        here, empty = _first(item.data)
        return here, empty or low == 0
    return None, False


def _class_items(items: Sequence[Any]) -> set[str] | None:
    found = set()
    for op, value in items:
        if op is sre.LITERAL:
            found.add(re.escape(chr(value)))
        elif op is sre.RANGE:
            found.add(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        else:  # a category (\\w, \\s) or a negated class: too wide to be worth it
            return None
    return found


def _branches(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern (a "|" outside groups and classes)."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts
