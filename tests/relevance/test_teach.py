"""Round two's evidence features on texts of our own, and marks that refit the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import text_item
from watcher.relevance import teach, wording
from watcher.relevance.classify import KeywordClassifier, scan, tie_evidence
from watcher.relevance.lexicon import build_lexicon, default_lexicon
from watcher.relevance.marks import mark_item
from watcher.relevance.model import Model, load_model, model_document, model_from_document
from watcher.relevance.teach import (
    base_fingerprint,
    fit_model,
    judged,
    refit,
    shipped_examples,
    taught_model,
)
from watcher.relevance.training import Booster, Forest, _sample_keys, relevance_learner
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


def test_a_party_named_only_as_the_source_is_not_a_party() -> None:
    """GUIDELINES.md: a North Korean weapons story in which South Korea's military is
    only the source is not inter-Korean; the South's span does not name it."""
    text = (
        "North Korea fired a ballistic missile into the sea on Monday, according to South "
        "Korea's Joint Chiefs of Staff. The missile flew about 600 kilometres. Kim Jong Un "
        "oversaw the launch, state media reported. Pyongyang called it a routine test."
    )
    found = scan("North Korea fires missile", text)
    assert found.named[0].parties == {"north"}, "the JCS names the South only as the source"
    evidence = tie_evidence(found, "inter-korean")
    assert (evidence.direct, evidence.near) == (0, 0)
    assert evidence.title_one, "the title names the North alone"
    assert evidence.alone == 0.75, "three sentences name the North alone, one no one"
    headline = scan("North Korea missile launch fails: South Korea", "")
    assert headline.title_parties == {"north"}, "a headline's trailing source"


def test_the_south_as_an_actor_still_names_it() -> None:
    """Without a word of saying the span is an actor, not a source; with one, the party
    named elsewhere in the sentence still counts."""
    shots = "South Korea's military fired warning shots at North Korean soldiers at the border."
    assert scan(None, shots).named[0].parties == {"north", "south"}
    both = (
        "South Korea's defence ministry said Seoul would suspend the military agreement "
        "with North Korea."
    )
    assert scan(None, both).named[0].parties == {"north", "south"}


def test_a_party_and_a_source_in_one_sentence_count_as_attribution() -> None:
    text = (
        "North Korea fired artillery near the border with South Korea, according to "
        "officials. North Korea and South Korea held talks at Panmunjom on the hotline."
    )
    found = scan(None, text)
    assert found.attributed == {0}, "the first sentence gives its source"
    assert tie_evidence(found, "inter-korean").attributed == 1


def test_the_south_in_korean_affairs_copy_names_south_korea() -> None:
    found = scan("North Korea blows up the South’s de facto embassy", "")
    assert found.title_parties == {"north", "south"}
    for elsewhere in ("the South China Sea", "the south of France", "the South Korean army"):
        named = scan(None, f"Ships sailed through {elsewhere} yesterday.").named[0].parties
        assert named == ({"south"} if "Korean" in elsewhere else set()), elsewhere


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


@pytest.mark.parametrize("learner", [relevance_learner, Booster], ids=["forest", "boosted"])
def test_the_learners_trees_are_deterministic_and_weighted(learner: Callable[[], Any]) -> None:
    rows = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]] * 5)
    labels = np.array([False, False, True, True] * 5)
    once = learner().fit(rows, labels).exported(top=1)
    again = learner().fit(rows, labels).exported(top=1)
    assert once == again
    assert once.probability([3.0, 0.0]) > 0.9 > 0.1 > once.probability([0.0, 1.0])
    # Weighing the first row's kind against its label moves the model toward it.
    flipped = labels.copy()
    flipped[0] = True
    weights = np.where(np.arange(len(rows)) == 0, 50.0, 1.0)
    heavy = learner().fit(rows, flipped, weights).exported(top=1)
    assert heavy.probability([0.0, 1.0]) > once.probability([0.0, 1.0]) + 0.3


def test_a_forests_leaves_hold_the_share_relevant_and_survive_its_document() -> None:
    """The forest's verdict is its trees' mean share, not a log-odds sum, also once
    stored as a taught model's JSON and read back."""
    rows = np.array([[float(i % 10)] for i in range(40)])
    labels = np.array([i % 10 >= 7 for i in range(40)])  # 30 % relevant, all at 7-9
    forest = Forest(n_estimators=20, max_depth=1).fit(rows, labels)
    model = Model({}, forest.exported(top=1))
    assert model.relevance.average
    low = model.relevance.probability([0.0])
    assert 0.0 <= low < 0.2 < 0.8 < model.relevance.probability([9.0]) <= 1.0
    back = model_from_document(json.loads(json.dumps(model_document(model, "test"))))
    assert back.relevance == model.relevance


def test_a_forest_draws_by_what_it_draws_not_in_turn() -> None:
    """Each article's count in each tree's bootstrap sample, and the features a node may
    split on, are hashed from the article and the node's place, not taken in turn from
    one generator: the rows' order (the marks' as the database returns them) changes no
    tree, and one more row leaves the others' draws as they were, so that a refit after
    a mark moves what the mark bears on instead of reshuffling every tree."""
    generator = np.random.default_rng(7)
    rows = generator.normal(size=(60, 9))
    rows[:10] = rows[0]  # ten articles alike: drawn apart all the same
    labels = rows[:, 0] + 0.5 * rows[:, 1] > 0
    forest = Forest(n_estimators=30, max_depth=4).fit(rows, labels)
    turned = np.arange(len(rows))[::-1]
    assert Forest(n_estimators=30, max_depth=4).fit(rows[turned], labels[turned]).trees == (
        forest.trees
    )

    keys = _sample_keys(rows.astype(np.float32), labels.astype(float))
    assert len(set(keys.tolist())) == len(rows)
    more = np.vstack([rows, generator.normal(size=(1, 9))])
    longer = _sample_keys(more.astype(np.float32), np.append(labels, True).astype(float))
    assert longer[:-1].tolist() == keys.tolist()


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


def test_a_refit_embeds_only_the_articles_marked_since_the_last(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marked article's wording is embedded at the refit after its mark and kept in
    the database: the next refit embeds the new mark alone, and fits the same model as
    one that embedded them all."""
    texts = [festival(0), festival(1)]
    items = [
        store.add_item(text_item(f"https://a.example/{n}", t[1], title=t[0]))
        for n, t in enumerate(texts)
    ]
    embedded: list[str] = []
    encoder = wording._embed
    monkeypatch.setattr(wording, "_embed", lambda text: embedded.append(text) or encoder(text))

    refit(store, default_lexicon(), store.add_mark(items[0], "irrelevant", [], NOW), NOW)
    version = store.add_mark(items[1], "relevant", ["inter-korean"], NOW)
    model = refit(store, default_lexicon(), version, NOW)

    assert len(embedded) == 2, "the first mark's wording was not embedded again"
    assert embedded[1].startswith(texts[1][0])
    top = shipped_examples().top
    from_scratch = fit_model(
        shipped_examples(),
        [
            judged(*texts[0], False, None, default_lexicon(), top),
            judged(*texts[1], True, ["inter-korean"], default_lexicon(), top),
        ],
    )
    assert len(embedded) == 4, "outside a refit, nothing is looked up"
    assert model == from_scratch


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


def test_a_new_shipped_model_refits_the_taught_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A release whose learners changed ships a retrained model beside the same examples:
    a model taught with the old learners is refitted with the new."""
    before = base_fingerprint(default_lexicon())
    retrained = tmp_path / "relevance_model.json"
    retrained.write_text(teach.MODEL_FILE.read_text(encoding="utf-8") + " ", encoding="utf-8")
    monkeypatch.setattr(teach, "MODEL_FILE", retrained)
    assert base_fingerprint(default_lexicon()) != before


def test_the_taught_models_fingerprint_sees_every_pattern_of_the_lexicon() -> None:
    """A taught model is refitted when the lexicon its marks were read with changes:
    also a party's participant rule, and a change past the 200 characters a pattern's
    repr shows."""
    assert base_fingerprint(default_lexicon()) == base_fingerprint(default_lexicon())

    def russia(participant: str) -> str:
        table = {"name": "russia", "terms": ["\\brussia"], "participant": [participant]}
        return base_fingerprint(build_lexicon([table], []))

    assert russia("quartet") != russia("sextet")

    def topic(last: str) -> str:
        terms = ["\\binter-korean\\b", "x" * 300 + last]
        table = {"name": "inter-korean", "parties": ["north", "south"], "terms": terms}
        return base_fingerprint(build_lexicon([], [table]))

    assert topic("a") != topic("b")


@pytest.mark.parametrize("weight", ["MARK_WEIGHT", "WORDING_MARK_WEIGHT"])
def test_a_new_weight_for_marks_refits_the_taught_model(
    monkeypatch: pytest.MonkeyPatch, weight: str
) -> None:
    """A release that weighs marks differently leaves the shipped examples and model as
    they were: a model taught with the old weights is refitted with the new."""
    before = base_fingerprint(default_lexicon())
    monkeypatch.setattr(teach, weight, getattr(teach, weight) + 1)
    assert base_fingerprint(default_lexicon()) != before


def test_the_wording_model_weighs_a_mark_as_its_own_weight_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mark weighs ``WORDING_MARK_WEIGHT`` in the wording's model and ``MARK_WEIGHT``
    in the trees and the tie models: each as bench/teach.py measured it."""
    base = shipped_examples()
    marks = [judged(*festival(0), True, ["inter-korean"], default_lexicon(), base.top)]
    model = fit_model(base, marks)
    monkeypatch.setattr(teach, "WORDING_MARK_WEIGHT", teach.WORDING_MARK_WEIGHT + 3)
    heavier = fit_model(base, marks)
    assert heavier.wording != model.wording
    assert (heavier.relevance, heavier.ties) == (model.relevance, model.ties)
