"""Cosines of content-word vectors: one text against many at once, as against each alone."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import pytest

from tests.conftest import shared_path
from watcher.relevance.similarity import _STOP, _WORD, Similarities, cosine, vector

MARKED = [
    "Seoul and Pyongyang agreed to reopen the liaison office at Kaesong next month.",
    "Moscow and Pyongyang signed a treaty on comprehensive strategic partnership.",
    "The festival in Busan drew visitors from across the region.",
    "",  # a mark whose text has no content words: no similarity, never a division by zero
    "Pyongyang and Seoul reopen the liaison office at Kaesong; talks resume next month.",
]


@pytest.mark.parametrize(
    "text",
    [
        "Talks to reopen the liaison office at Kaesong resume next month, Seoul said.",
        "Russia and North Korea signed a treaty in Pyongyang.",
        "Nothing here is shared with any of them.",
        "",
    ],
)
def test_one_walk_gives_each_mark_s_cosine(text: str) -> None:
    vectors = [vector(marked) for marked in MARKED]
    mine = vector(text)

    together = Similarities(vectors).to(mine)

    assert together == pytest.approx([cosine(mine, one) for one in vectors], abs=1e-12)


def test_the_closest_mark_is_the_near_copy() -> None:
    similarities = Similarities([vector(marked) for marked in MARKED]).to(vector(MARKED[0]))
    assert similarities[0] == pytest.approx(1.0)
    assert max(similarities[1:]) == similarities[4] > 0.3  # reworded, same story
    assert similarities[2] == similarities[3] == 0.0


def test_no_marks_give_no_similarities() -> None:
    assert Similarities([]).to(vector(MARKED[0])) == []


def test_an_article_s_strongest_terms_are_counter_s_most_common() -> None:
    """The vector keeps the 400 terms ``Counter.most_common`` would, ties in its order
    (first seen first), with their weights: on every labelled article."""
    lines = shared_path("eval", "relevance", "articles.jsonl").read_text(encoding="utf-8")
    for article in map(json.loads, lines.splitlines()):
        text = f"{article['title']}\n{article['text']}"
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
        counts = Counter(words)
        counts.update(f"{a} {b}" for a, b in itertools.pairwise(words))
        wanted = [(term, 1.0 + math.log(count)) for term, count in counts.most_common(400)]
        assert list(vector(text).weights.items()) == wanted, article["id"]
