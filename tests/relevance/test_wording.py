"""The wording's second opinion: read only where the forest is unsure, learnt exactly,
taught by marks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import text_item
from tests.relevance.test_teach import NOW, festival
from watcher.relevance import classify, wording
from watcher.relevance.classify import KeywordClassifier, scan
from watcher.relevance.lexicon import build_lexicon, default_lexicon
from watcher.relevance.model import load_model, model_document, model_from_document
from watcher.relevance.reclassify import reclassify
from watcher.relevance.teach import fit_model, judged, shipped_examples
from watcher.relevance.wording import (
    DIMENSIONS,
    MAX_CHARACTERS,
    WordingModel,
    embedding,
    evidence_text,
    fit_wording,
)
from watcher.store import Store

_FILLER = "The ministry published figures on grain harvests and rail freight for the quarter. "
# The forest is unsure of it (its score lies within UNSURE of one half).
UNSURE_TEXT = (
    "Russia's economy under sanctions",
    "Russia's economy grew by two percent despite sanctions. "
    + _FILLER * 4
    + "Moscow has found new partners, among them China, Iran and North Korea, which sent "
    "artillery shells. " + _FILLER * 4,
)
SURE_TEXT = (
    "Putin hosts Kim",
    "Russian President Vladimir Putin hosted North Korean leader Kim Jong Un in Vladivostok. "
    "The two signed agreements on military cooperation and Russia pledged food aid to North "
    "Korea. Moscow and Pyongyang said their partnership would deepen.",
)
ALWAYS = WordingModel((0.0,) * DIMENSIONS, 60.0)  # says "relevant" to any wording


def _classifiers(
    wording: WordingModel | None,
) -> tuple[KeywordClassifier, KeywordClassifier]:
    shipped = load_model()
    bare = KeywordClassifier(0.5, model=dataclasses.replace(shipped, wording=None))
    return bare, KeywordClassifier(0.5, model=dataclasses.replace(shipped, wording=wording))


def test_the_wording_is_read_only_where_the_forest_is_unsure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bare, worded = _classifiers(ALWAYS)
    read: list[str] = []

    def embedding(text: str) -> np.ndarray:
        read.append(text)
        return np.zeros(DIMENSIONS)

    monkeypatch.setattr(classify, "embedding", embedding)
    unsure = bare.classify(*UNSURE_TEXT, "en").score
    assert 0.2 < unsure < 0.5, "the forest's own score of the text, unsure and irrelevant"
    verdict = worded.classify(*UNSURE_TEXT, "en")
    assert verdict.score == pytest.approx((unsure + 1.0) / 2, abs=1e-4)
    assert verdict.relevant
    assert verdict.evidence[-1] == "(unsure from the evidence alone; its wording scores 1.00)"
    assert len(read) == 1
    assert read[0].startswith("Russia's economy under sanctions\n")
    assert "artillery shells" in read[0]
    assert "grain harvests" in read[0], "the evidence's neighbours are read too"

    sure = bare.classify(*SURE_TEXT, "en").score
    assert sure > 0.8
    assert worded.classify(*SURE_TEXT, "en") == bare.classify(*SURE_TEXT, "en")
    assert worded.classify("Weather", "Rain in Paris tomorrow.", "en").score == 0.0
    assert len(read) == 1, "a sure verdict and a text without evidence embed nothing"


def test_a_tie_the_user_added_is_not_judged_by_wording_learnt_on_others() -> None:
    lexicon = build_lexicon(
        [
            {"name": "tibet", "terms": ["\\blhasa\\b"]},
            {"name": "nepal", "terms": ["\\bkathmandu\\b"]},
        ],
        [{"name": "tibet-nepal", "parties": ["tibet", "nepal"]}],
    )
    never = WordingModel((0.0,) * DIMENSIONS, -60.0)
    model = dataclasses.replace(load_model(), wording=never)
    text = "Officials from Lhasa met their counterparts in Kathmandu to discuss border trade. "
    plain = dataclasses.replace(model, wording=None)
    expected = KeywordClassifier(0.5, model=plain, lexicon=lexicon).classify(None, text * 3, "en")
    got = KeywordClassifier(0.5, model=model, lexicon=lexicon).classify(None, text * 3, "en")
    assert got.score == expected.score


def test_the_evidence_text_is_the_title_and_evidence_with_neighbours() -> None:
    sentences = [f"Sentence {i} is about the weather." for i in range(10)]
    sentences[5] = "Russia and North Korea signed a treaty."
    found = scan("A title", " ".join(sentences))
    text = evidence_text("A title", found)
    assert text == (
        "A title\nSentence 4 is about the weather. Russia and North Korea signed a treaty. "
        "Sentence 6 is about the weather."
    )
    long = scan(None, "Russia and North Korea signed a treaty. " * 500)
    assert len(evidence_text(None, long)) == MAX_CHARACTERS


def test_an_embedding_is_unit_length_multilingual_and_repeatable() -> None:
    english = embedding("North Korea and Russia signed a military treaty.")
    korean = embedding("북한과 러시아가 군사 조약을 체결했다.")
    weather = embedding("Tomorrow will be sunny with a light breeze.")
    assert english.shape == (DIMENSIONS,)
    assert np.linalg.norm(english) == pytest.approx(1.0, abs=1e-2)
    assert float(english @ korean) > float(english @ weather) + 0.2, "the same news, two tongues"
    again = embedding("North Korea and Russia signed a military treaty.")
    assert again.tolist() == english.tolist()
    assert english.tolist() == english.astype(np.float16).astype(np.float64).tolist()


def test_the_wording_model_is_the_penalised_optimum_and_deterministic() -> None:
    rng = np.random.default_rng(7)
    xs = rng.normal(size=(120, 8))
    ys = xs[:, 0] + 0.5 * rng.normal(size=120) > 0
    weights = np.where(np.arange(120) < 20, 5.0, 1.0)
    model = fit_wording(xs, ys, weights)
    assert fit_wording(xs, ys, weights) == model
    beta = np.array([*model.weights, model.bias])
    design = np.column_stack([xs, np.ones(120)])
    p = 1 / (1 + np.exp(-(design @ beta)))
    penalty = np.array([0.1] * 8 + [0.0])  # 1/C on the weights, none on the bias
    gradient = design.T @ (weights * (p - ys)) + penalty * beta
    assert np.abs(gradient).max() < 1e-6, "the penalised log-loss is at its minimum"
    assert model.weights[0] > 1.0
    assert all(abs(w) < model.weights[0] / 3 for w in model.weights[1:])


def test_the_wording_model_survives_its_document() -> None:
    shipped = load_model()
    assert shipped.wording is not None
    again = model_from_document(model_document(shipped, "test"))
    assert again.wording == shipped.wording
    broken = model_document(shipped, "test")
    broken["wording"]["weights"] = broken["wording"]["weights"][:10]
    with pytest.raises(ValueError, match="other embeddings"):
        model_from_document(broken)


@pytest.mark.parametrize("relevant", [False, True])
def test_marks_teach_the_wording_model(relevant: bool) -> None:
    """Five festivals marked: the refitted wording model moves a sixth, unseen one their
    way (the shipped one already finds festivals irrelevant; marked relevant, by an
    analyst who follows them, they become so)."""
    base = shipped_examples()
    lexicon = default_lexicon()
    marks = [judged(*festival(n), relevant, None, lexicon, base.top) for n in range(5)]
    unseen = judged(*festival(5), relevant, None, lexicon, base.top).wording
    before = fit_model(base).wording
    after = fit_model(base, marks).wording
    assert before is not None
    assert after is not None
    was, now = before.probability(unseen), after.probability(unseen)
    assert was < 0.5
    if relevant:
        assert now > 0.5
    else:
        assert now < was / 2


def test_the_encoder_is_kept_in_the_cache_folder_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = wording.cache_file()
    assert path.parent == tmp_path / "watcher"
    made = wording._cached(path)
    assert path.is_file(), "loaded from the package, then kept"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"
    read = wording._cached(path)
    assert read is not made
    text = "북한과 러시아가 군사 조약을 체결했다. Russia and North Korea signed a treaty."
    assert read.encode(text).tolist() == made.encode(text).tolist()

    path.write_bytes(path.read_bytes()[:1000])  # cut short, as by a full disk
    again = wording._cached(path)
    assert again.encode(text).tolist() == made.encode(text).tolist()
    assert "wording_cache_unreadable" in caplog.messages
    assert path.stat().st_size > 1_000_000, "made again"


def test_an_unwritable_cache_folder_costs_time_not_the_verdict(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    encoder = wording._cached(blocked / "watcher" / "usem3.pickle")
    assert encoder.encode("Seoul and Pyongyang").shape == (DIMENSIONS,)
    assert "wording_cache_unwritable" in caplog.messages


class _Kept:
    """A VectorStore in memory."""

    def __init__(self) -> None:
        self.vectors: dict[str, bytes] = {}

    def wording_vector(self, digest: str) -> bytes | None:
        return self.vectors.get(digest)

    def keep_wording_vectors(self, vectors: dict[str, bytes]) -> None:
        self.vectors.update(vectors)


def _counting_encoder(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    encoded: list[str] = []
    real = wording._embed
    monkeypatch.setattr(wording, "_embed", lambda text: encoded.append(text) or real(text))
    return encoded


def test_a_kept_embedding_is_not_made_again_and_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded = _counting_encoder(monkeypatch)
    kept = _Kept()
    with wording.kept_in(kept):
        first = embedding("Seoul and Pyongyang reopen the liaison office.")
        again = embedding("Seoul and Pyongyang reopen the liaison office.")
    assert len(encoded) == 1
    assert len(kept.vectors) == 1
    with wording.kept_in(kept):
        later = embedding("Seoul and Pyongyang reopen the liaison office.")
        other = embedding("Moscow and Pyongyang sign a treaty.")
    assert len(encoded) == 2, "only the new text is embedded"
    fresh = embedding("Seoul and Pyongyang reopen the liaison office.")  # outside: the encoder
    assert len(encoded) == 3
    assert len(kept.vectors) == 2
    assert np.array_equal(first, again)
    assert np.array_equal(first, later)
    assert np.array_equal(first, fresh), "a kept embedding scores as a fresh one"
    assert not np.array_equal(first, other)


def test_a_kept_embedding_cut_short_is_made_again_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A row of the wrong length (written by hand, or cut short) costs the encoder's
    time and a warning naming it, never a verdict."""
    kept = _Kept()
    with wording.kept_in(kept):
        whole = embedding("Seoul and Pyongyang reopen the liaison office.")
    [digest] = kept.vectors
    kept.vectors[digest] = kept.vectors[digest][:100]
    with caplog.at_level("WARNING", logger="watcher.relevance.wording"), wording.kept_in(kept):
        again = embedding("Seoul and Pyongyang reopen the liaison office.")
    assert np.array_equal(whole, again)
    [record] = [r for r in caplog.records if r.getMessage() == "wording_vector_unreadable"]
    assert record.digest == digest  # type: ignore[attr-defined]


def _embed_then_fail(kept: _Kept) -> None:
    with wording.kept_in(kept):
        embedding("Seoul and Pyongyang reopen the liaison office.")
        raise RuntimeError("the rescoring failed")


def test_embeddings_made_in_a_block_that_failed_are_not_kept() -> None:
    kept = _Kept()
    with pytest.raises(RuntimeError, match="the rescoring failed"):
        _embed_then_fail(kept)
    assert kept.vectors == {}


def test_scoring_again_embeds_only_articles_not_met_before(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rescoring the newest articles after each mark: the unsure one's wording is
    embedded at the first, read back from the database at the second, same verdict."""
    title, text = UNSURE_TEXT
    store.add_item(text_item("https://a.example/economy", text, title=title))
    encoded = _counting_encoder(monkeypatch)
    classifier = KeywordClassifier(0.5)

    reclassify(store, tmp_path, classifier, NOW)
    first = store.stored_items()[0]
    reclassify(store, tmp_path, classifier, NOW)
    second = store.stored_items()[0]

    assert len(encoded) == 1
    assert (second.score, second.evidence) == (first.score, first.evidence)
    assert any("its wording scores" in line for line in first.evidence)
