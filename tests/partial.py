"""Partial copies and their look-alikes, built from the labelled development articles.

``../shared/eval/dedup/dev_pairs.jsonl`` holds whole copies only. What partners and
aggregators publish every day is a part: the first half with "Continue reading at …",
the opening paragraph with "Read the full analysis on …". And what must stay apart
shares parts too: a roundup of several openings, a statement quoted inside an analysis,
part 2 repeating part 1's background, releases sharing a disclaimer, a wire story with
an outlet's own reporting added. Used by tests/dedup/test_partial_dedup.py and bench/dedup.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Doc", "Pair", "articles_for_pairs", "partial_pairs"]

DISCLAIMER = (
    "The views expressed in this publication are solely those of the author and do not "
    "necessarily reflect the views of the institute, its board of trustees or its funders. "
    "The institute does not take institutional positions on policy issues; this work is "
    "provided for information and may be reproduced with attribution for non-commercial "
    "purposes, provided that the original source is credited in full and that no part of "
    "it is altered. All rights otherwise reserved; contact the communications office for "
    "permission to republish, translate or excerpt this material in any other form."
)


@dataclass(frozen=True)
class Doc:
    title: str
    text: str


@dataclass(frozen=True)
class Pair:
    kind: str
    duplicate: bool
    full: Doc  # the longer, or the first of two look-alikes
    part: Doc  # the excerpt, or the second


def articles_for_pairs(shared: Path, count: int, min_paragraphs: int = 6) -> list[Doc]:
    """Development articles long enough to be cut, in file order (deterministic)."""
    path = shared / "eval" / "relevance" / "articles.jsonl"
    found: list[Doc] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs = _paragraphs(record["text"])
        if len(paragraphs) >= min_paragraphs and sum(len(p.split()) for p in paragraphs) > 300:
            found.append(Doc(record["title"], "\n".join(paragraphs)))
        if len(found) == count:
            break
    return found


def partial_pairs(docs: list[Doc], seed: int = 0) -> list[Pair]:
    """Every kind for each article (its neighbours lend the other texts)."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for index, doc in enumerate(docs):
        other = docs[(index + 1) % len(docs)]
        third = docs[(index + 2) % len(docs)]
        paragraphs = _paragraphs(doc.text)
        share = rng.uniform(0.4, 0.7)
        cut = max(2, round(len(paragraphs) * share))
        excerpt = paragraphs[:cut]
        teaser = paragraphs[: rng.choice((1, 2))]
        pairs += [
            Pair(
                "excerpt, continue line, new title",
                True,
                doc,
                Doc(f"Partner view: {_retitle(doc.title)}", _join(excerpt, _continue(rng))),
            ),
            Pair("excerpt, same title", True, doc, Doc(doc.title, _join(excerpt))),
            Pair(
                "teaser, read-full line",
                True,
                doc,
                Doc(_retitle(doc.title), _join(teaser, _read_full(rng))),
            ),
            Pair("teaser, same title", True, doc, Doc(doc.title, _join(teaser))),
            Pair("teaser, cut short", True, doc, Doc("In brief", _join(_cut_short(teaser)))),
            Pair(
                "roundup of three openings",
                False,
                doc,
                Doc(
                    "This week's reading",
                    _join(
                        [
                            f"{doc.title}: {paragraphs[0]}",
                            f"{other.title}: {_paragraphs(other.text)[0]}",
                            f"{third.title}: {_paragraphs(third.text)[0]}",
                        ]
                    ),
                ),
            ),
            _quoted_statement(doc, other),
            Pair(
                "part 2 repeats part 1's background",
                False,
                doc,
                Doc(f"{doc.title}, part 2", _join(paragraphs[:2] + _paragraphs(other.text))),
            ),
            Pair(
                "releases sharing a disclaimer",
                False,
                Doc(doc.title, _join([*paragraphs[:2], DISCLAIMER])),
                Doc(other.title, _join([*_paragraphs(other.text)[:2], DISCLAIMER])),
            ),
            _rewritten(doc, other, rng),
        ]
    return pairs


def _quoted_statement(doc: Doc, other: Doc) -> Pair:
    """A short statement (the article's first two paragraphs, as issued) quoted whole in
    the middle of another analysis."""
    statement = _paragraphs(doc.text)[:2]
    analysis = _paragraphs(other.text)
    middle = len(analysis) // 2
    quoted = analysis[:middle] + statement + analysis[middle:]
    return Pair(
        "statement quoted in an analysis",
        False,
        Doc(other.title, _join(quoted)),
        Doc(f"Statement: {doc.title}", _join(statement)),
    )


def _rewritten(doc: Doc, other: Doc, rng: random.Random) -> Pair:
    """The same story told by another outlet: its paragraphs lightly edited, with its
    own reporting (a third or more of the text) added."""
    paragraphs = _paragraphs(doc.text)
    kept = [_edit(p, rng) for p in paragraphs[: max(2, len(paragraphs) * 2 // 3)]]
    own = _paragraphs(other.text)
    words = sum(len(p.split()) for p in kept)
    added: list[str] = []
    while own and sum(len(p.split()) for p in added) < words * 0.6:
        added.append(own.pop(0))
    return Pair(
        "wire story with its own reporting",
        False,
        doc,
        Doc(_retitle(doc.title), _join(kept[:2] + added + kept[2:])),
    )


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _join(paragraphs: list[str], *extra: str) -> str:
    return "\n".join([*paragraphs, *extra])


def _continue(rng: random.Random) -> str:
    return rng.choice(
        (
            "Continue reading at 38north.org",
            "Continue reading the full analysis at the Stimson Center",
            "This article first appeared at The Diplomat. Continue reading there.",
        )
    )


def _read_full(rng: random.Random) -> str:
    return rng.choice(
        (
            "Read the full analysis on csis.org",
            "Read more at Carnegie Endowment",
            "The full article is available on the author's institute website.",
        )
    )


def _retitle(title: str) -> str:
    words = title.split()
    return " ".join(reversed(words[: max(3, len(words) // 2)])) + " — an analysis"


def _cut_short(paragraphs: list[str]) -> list[str]:
    last = paragraphs[-1].split()
    return [*paragraphs[:-1], " ".join(last[: max(5, len(last) * 2 // 3)]) + " …"]


def _edit(paragraph: str, rng: random.Random) -> str:
    words = paragraph.split()
    return " ".join(w.upper() if rng.random() < 0.05 else w for w in words)
