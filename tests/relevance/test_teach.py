"""Round two's evidence features on texts of our own, and marks that refit the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import text_item
from watcher.relevance.classify import KeywordClassifier, scan, tie_evidence
from watcher.relevance.lexicon import default_lexicon
from watcher.relevance.marks import mark_item
from watcher.relevance.model import load_model
from watcher.relevance.teach import judged, refit, shipped_examples, taught_model
from watcher.relevance.training import Booster
from watcher.store import Store

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
_CITIES = ("Los Angeles", "Toronto", "Sydney", "London", "Frankfurt", "Osaka")
_FOODS = ("cold noodles", "kimchi stew", "rice cakes", "dumplings", "barbecue", "pancakes")


def festival(number: int) -> tuple[str, str]:
    """A festival naming both Koreas: not about their relations (GUIDELINES.md), though
    every sentence names the two. Each number another city, another menu."""
    city, food, other = _CITIES[number], _FOODS[number], _FOODS[(number + 1) % len(_FOODS)]
    return (
        f"{city} festival celebrates Korean cooking",
        f"A food festival in {city} celebrated the cuisine of both North Korea and South Korea "
        f"this weekend. Chefs from Seoul served {food} while a stall run by North Korean "
        f"defectors offered Pyongyang {other}. Organisers said the festival in {city} had "
        "nothing to do with politics. Visitors queued for hours. Music from South Korea and "
        "North Korean folk songs played late into the night.",
    )


def test_a_party_named_as_the_source_is_counted_as_attribution() -> None:
    text = (
        "North Korea fired a ballistic missile into the sea on Monday, according to South "
        "Korea's Joint Chiefs of Staff. The missile flew about 600 kilometres. Kim Jong Un "
        "oversaw the launch, state media reported. Pyongyang called it a routine test."
    )
    found = scan("North Korea fires missile", text)
    evidence = tie_evidence(found, "inter-korean")
    assert found.attributed == {0}, "the JCS sentence names the South as the source"
    assert evidence.attributed == 1
    assert evidence.title_one, "the title names the North alone"
    assert evidence.alone > 0, "three of four sentences are about the North alone"
    talks = "North Korea and South Korea held talks at Panmunjom on the hotline."
    assert not scan(None, talks).attributed


def test_a_south_korean_outlets_government_is_seoul_but_not_in_pyongyangs_media() -> None:
    seoul = "정부는 북한에 군사회담을 제안했다. 우리 군은 경계 태세를 유지하고 있다."
    found = scan(None, seoul)
    assert all("south" in named.parties for named in found.named)
    evidence = tie_evidence(found, "inter-korean")
    assert (evidence.direct, evidence.near) == (1, 1), "the North is named once, Seoul twice"
    pyongyang = "조선중앙통신에 의하면 정부는 새 경제 계획을 발표했다. 평양에서 회의가 열렸다."
    assert all("south" not in named.parties for named in scan(None, pyongyang).named)


def test_russia_as_a_six_party_member_gives_no_tie() -> None:
    six = (
        "The six-party talks brought together North Korea, South Korea, the United States, "
        "China, Japan and Russia between 2003 and 2009."
    )
    found = scan(None, six)
    assert "russia" not in found.named[0].parties
    assert tie_evidence(found, "russia-nk").direct == 0
    assert tie_evidence(found, "inter-korean").direct == 1
    treaty = "Russia and North Korea signed a treaty in Pyongyang."
    assert tie_evidence(scan(None, treaty), "russia-nk").direct == 1


def test_the_learners_trees_are_deterministic_and_weighted() -> None:
    rows = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]] * 5)
    labels = np.array([False, False, True, True] * 5)
    once = Booster().fit(rows, labels).exported(top=1)
    again = Booster().fit(rows, labels).exported(top=1)
    assert once == again
    assert once.probability([3.0, 0.0]) > 0.9 > 0.1 > once.probability([0.0, 1.0])
    # Weighing the first row's kind against its label moves the model toward it.
    flipped = labels.copy()
    flipped[0] = True
    weights = np.where(np.arange(len(rows)) == 0, 50.0, 1.0)
    heavy = Booster().fit(rows, flipped, weights).exported(top=1)
    assert heavy.probability([0.0, 1.0]) > once.probability([0.0, 1.0]) + 0.3


def test_a_mark_refits_the_model_and_moves_similar_unseen_texts(
    store: Store, tmp_path: Path
) -> None:
    """One festival marked irrelevant: the refitted model (no similarity pull: the texts
    are scored without the marked examples) turns other festivals irrelevant, and every
    process reads the refit from the database."""
    shipped = KeywordClassifier(0.5)
    assert all(shipped.classify(*festival(n), "en").relevant for n in range(1, 6))
    title, text = festival(0)
    item = store.add_item(text_item("https://a.example/festival", text, title=title))
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    result = mark_item(store, corpus, str(item), "irrelevant", [], NOW)

    stored = store.taught_model()
    assert stored is not None
    assert stored[0] == result.model_version == store.model_version()
    taught = taught_model(store, default_lexicon(), NOW)
    assert taught is not None
    classifier = KeywordClassifier(0.5, model=taught)
    for number in range(1, 6):
        assert not classifier.classify(*festival(number), "en").relevant, number
    # The seeds' kind of article stays relevant.
    treaty = (
        "Russia and North Korea signed a treaty on comprehensive strategic partnership in "
        "Pyongyang. Under the pact, Moscow and Pyongyang pledge military assistance. North "
        "Korean troops have since been deployed to Russia, and North Korea has supplied "
        "munitions to the Russian army."
    )
    assert classifier.classify("Treaty", treaty, "en").relevant
    assert json.loads(stored[1])["trained_on"] == "shipped examples and 1 marks"


def test_the_refit_is_the_same_for_the_same_marks_and_never_touches_them(store: Store) -> None:
    title, text = festival(0)
    item = store.add_item(text_item("https://a.example/festival", text, title=title))
    version = store.add_mark(item, "irrelevant", [], NOW)
    first = refit(store, default_lexicon(), version, NOW)
    second = refit(store, default_lexicon(), version, NOW)
    assert first == second
    assert first != load_model()
    assert store.marked_examples() == [(title, text, "irrelevant", ())]


def test_a_marks_ties_teach_the_tie_models() -> None:
    """A relevant mark with its ties adds a sample to each tie's model; one without
    ties says whether it is relevant, but nothing of its ties."""
    lexicon = default_lexicon()
    top = shipped_examples().top
    with_ties = judged(*festival(0), True, ["inter-korean"], lexicon, top)
    assert with_ties.ties["inter-korean"][1] is True
    assert with_ties.ties["russia-nk"][1] is False
    assert judged(*festival(0), True, None, lexicon, top).ties == {}
    refused = judged(*festival(0), False, None, lexicon, top)
    assert not any(label for _values, label in refused.ties.values())


@pytest.mark.parametrize("number", range(6))
def test_festivals_share_their_evidence_shape(number: int) -> None:
    """Why one mark moves them all: the evidence features say nothing of the city."""
    lexicon = default_lexicon()
    top = shipped_examples().top
    assert (
        judged(*festival(number), False, None, lexicon, top).article
        == judged(*festival(0), False, None, lexicon, top).article
    )
