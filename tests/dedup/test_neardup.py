"""The near-duplicate rule and its LSH keys: copies as they travel, look-alikes apart."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.site import relevance_articles
from watcher.dedup.neardup import NearDupRule

RULE = NearDupRule()
ANALYSIS = "eco20-2020-06-20-liaison-office"
OTHER = "pen0-2024-12-04-north-korean-troops-in-russia"


def _paragraphs(article_id: str) -> list[str]:
    shared_path("eval", "relevance", "articles.jsonl")  # or skip, saying why
    text = relevance_articles([article_id])[article_id]["text"]
    return [line for line in text.splitlines() if line.strip()]


def _edit(paragraph: str, every: int) -> str:
    """A sub-editor's light touch: every n-th word changed."""
    words = paragraph.split()
    return " ".join(w.upper() + "s" if i % every == 0 else w for i, w in enumerate(words, 1))


@pytest.fixture(scope="module")
def article() -> list[str]:
    return _paragraphs(ANALYSIS)


def test_a_republished_copy_is_the_same_article(article: list[str]) -> None:
    original = "\n".join(article)
    copy = "\n".join(
        [
            "Partner Review | Home | Subscribe | Newsletter",
            "A new headline for the same analysis",
            *(_edit(p, 25) for p in article),
            "This article first appeared at The Economist and is republished with permission.",
        ]
    )
    assert RULE.same_article(original, copy)
    assert set(RULE.band_keys(original)) & set(RULE.band_keys(copy)), "the index proposes it"


def test_a_copy_trimmed_by_an_editor_is_the_same_article(article: list[str]) -> None:
    original = "\n".join(article)
    trimmed = "\n".join(article[: len(article) - max(1, len(article) // 6)])
    assert RULE.same_article(original, trimmed)
    assert RULE.same_article(trimmed, original), "the rule does not depend on the order"


def test_a_roundup_that_carries_a_story_whole_is_another_article(article: list[str]) -> None:
    story = "\n".join(article)
    roundup = "\n".join([*article, *_paragraphs(OTHER)])
    found = RULE.overlap(story, roundup)
    assert found.containment > 0.95, "the story is all there"
    assert not RULE.same_article(story, roundup)


def test_part_two_of_a_series_is_not_part_one(article: list[str]) -> None:
    background = article[:2]
    part_one = "\n".join([*background, *article[2:]])
    part_two = "\n".join([*background, *_paragraphs(OTHER)])
    assert not RULE.same_article(part_one, part_two)


def test_releases_sharing_long_boilerplate_stay_apart() -> None:
    """KCNA-style: the same dateline, titles and closing formula around a short text."""
    boilerplate = (
        "Pyongyang, October 13 (KCNA) -- The following is the full text of the statement "
        "released by the spokesperson of the Ministry of Foreign Affairs of the Democratic "
        "People's Republic of Korea, as authorised by the Central Committee of the Workers' "
        "Party of Korea and the State Affairs Commission, for publication in full."
    )
    first = "\n".join([boilerplate, *_paragraphs(ANALYSIS)[:2]])
    second = "\n".join([boilerplate, *_paragraphs(OTHER)[:2]])
    assert not RULE.same_article(first, second)


def test_empty_texts_are_nobody_s_copy() -> None:
    assert RULE.band_keys("") == ()
    assert RULE.band_keys(" \n\t ") == ()
    assert not RULE.same_article("", "")
    assert RULE.same_article("One short line.", "one  SHORT line"), "normalised like text_hash"


def test_keys_are_the_same_in_every_process(article: list[str]) -> None:
    """Stored keys are compared with keys other processes make: no per-process salt."""
    text = "\n".join(article)
    program = (
        "import json, sys; from watcher.dedup.neardup import NearDupRule;"
        "print(json.dumps(NearDupRule().band_keys(sys.stdin.read())))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", program], input=text, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert tuple(json.loads(done.stdout)) == RULE.band_keys(text)
    assert len(RULE.band_keys(text)) == RULE.bands


def test_the_index_version_names_what_the_keys_depend_on() -> None:
    assert NearDupRule(bands=10).index_version != RULE.index_version
    assert NearDupRule(shingle_words=4).index_version != RULE.index_version
    assert NearDupRule(min_coverage=0.5).index_version == RULE.index_version


def test_the_labelled_pairs_are_judged_right() -> None:
    """../shared/eval/dedup/dev_pairs.jsonl: every copy found by the index and the rule,
    no look-alike taken for one."""
    lines = shared_path("eval", "dedup", "dev_pairs.jsonl").read_text().splitlines()
    wrong = []
    for line in lines:
        pair = json.loads(line)
        proposed = bool(set(RULE.band_keys(pair["a"])) & set(RULE.band_keys(pair["b"])))
        said = proposed and RULE.same_article(pair["a"], pair["b"])
        if said != pair["duplicate"]:
            wrong.append((pair["kind"], pair["duplicate"]))
    assert len(lines) > 250
    assert wrong == []


def test_lock_keys_are_shared_by_copies_and_not_by_other_articles(article: list[str]) -> None:
    original = RULE.fingerprint("\n".join(article))
    edited = RULE.fingerprint("\n".join(_edit(p, 40) for p in article))  # same article
    other = RULE.fingerprint("\n".join(_paragraphs(OTHER)))
    here, there = ("a" * 64,), ("b" * 64,)

    keys = original.lock_keys(here)
    assert keys == sorted(set(keys))
    assert all(-(2**63) <= key < 2**63 for key in keys), "PostgreSQL bigints"
    assert RULE.same_article(edited.shingles, "\n".join(article))
    assert set(keys) & set(edited.lock_keys(there)), "a copy at another URL meets it"
    assert set(keys) & set(original.lock_keys(there)), "an exact copy: by its text"
    assert not set(keys) & set(other.lock_keys(there)), "another article waits for nothing"


def test_read_gives_the_fingerprint_and_the_passage_at_once(article: list[str]) -> None:
    text = "\n".join([*article, "Continue reading the full analysis"])
    fingerprint, passage = RULE.read(text, "A title")
    alone, apart = RULE.fingerprint(text), RULE.passage(text, "A title")
    assert fingerprint.text_hash == alone.text_hash
    assert fingerprint.paragraphs == alone.paragraphs
    assert fingerprint.bands == alone.bands
    assert np.array_equal(fingerprint.shingles, alone.shingles)
    assert np.array_equal(passage.sequence, apart.sequence)
    assert np.array_equal(passage.shingles, apart.shingles)
    assert (passage.title, passage.teaser) == (apart.title, apart.teaser) == ("A title", True)


def test_the_opening_key_is_the_one_stored_databases_hold() -> None:
    """Stored items keep their keys: the opening key stays the hash of the text's first
    fifteen words, NFKC-normalised and case-folded, whatever the code that reads them."""
    text = "ＳＥＯＵＬ — The Unification Ministry proposed talks, its first offer since June; " * 3
    words = "seoul the unification ministry proposed talks its first offer since june seoul"
    words += " the unification ministry"
    expected = hashlib.sha256(f"opening:{words}".encode()).hexdigest()[:16]
    assert expected in RULE.fingerprint(text).paragraphs
    assert RULE.fingerprint("Too short to open anything.").paragraphs == ()
