"""The first relevance scorer on real text: the seeds, labelled articles, off-topic pages."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_path
from watcher.classify import TIES, KeywordClassifier

CLASSIFIER = KeywordClassifier(0.5)


def test_every_seed_is_relevant_with_evidence() -> None:
    """The five seeds define the beat: each must be judged relevant, with reasons."""
    seeds = sorted(shared_path("seeds").glob("*.txt"))
    assert len(seeds) == 5
    for seed in seeds:
        verdict = CLASSIFIER.classify(None, seed.read_text(encoding="utf-8"), "en")
        assert verdict.relevant, seed.name
        assert verdict.labels
        assert set(verdict.labels) <= set(TIES)
        assert 1 <= len(verdict.evidence) <= 3
        assert all(sentence in seed.read_text(encoding="utf-8") for sentence in verdict.evidence)


def test_precision_and_recall_on_labelled_articles_stay_above_floor() -> None:
    """A floor under the figures bench/relevance.py prints (0.894 / 0.737 when written)."""
    folder = shared_path("eval", "relevance")
    articles_text = (folder / "articles.jsonl").read_text(encoding="utf-8")
    articles = {a["id"]: a for a in map(json.loads, articles_text.splitlines())}
    labels_text = (folder / "dev_labels.jsonl").read_text(encoding="utf-8")
    labels = [json.loads(line) for line in labels_text.splitlines()]
    tp = fp = fn = 0
    for label in labels:
        if label["verdict"] == "borderline":
            continue
        article = articles[label["id"]]
        got = CLASSIFIER.classify(article["title"], article["text"], article["lang"]).relevant
        want = label["verdict"] == "relevant"
        tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
    assert tp / (tp + fp) >= 0.88
    assert tp / (tp + fn) >= 0.70


@pytest.mark.parametrize(
    ("text", "tie"),
    [
        (
            "Russia and North Korea signed a treaty on military cooperation in Pyongyang. " * 3,
            "russia-nk",
        ),
        (
            "South Korea and Russia discussed trade and energy in Moscow on Monday. " * 3,
            "russia-sk",
        ),
        ("Inter-Korean talks at Panmunjom resumed between the two Koreas. " * 3, "inter-korean"),
        ("러시아와 북한이 군사 협력을 강화하고 있다고 정부가 밝혔다. " * 3, "russia-nk"),
        (
            "Россия и КНДР подписали договор о всеобъемлющем стратегическом партнерстве. " * 3,
            "russia-nk",
        ),
    ],
)
def test_each_tie_is_labelled(text: str, tie: str) -> None:
    verdict = CLASSIFIER.classify(None, text, None)
    assert verdict.relevant
    assert tie in verdict.labels


def test_passing_mention_in_a_long_article_is_not_relevant() -> None:
    body = "The central bank kept interest rates unchanged as inflation eased this quarter. " * 60
    text = body + "Analysts also noted tension between North Korea and South Korea."
    assert not CLASSIFIER.classify("Rates on hold", text, "en").relevant


def test_deterministic() -> None:
    text = "Moscow and Pyongyang expanded rail links. Seoul protested. " * 5
    assert CLASSIFIER.classify("t", text, "en") == CLASSIFIER.classify("t", text, "en")


def test_anchor_shortcut_changes_no_verdict() -> None:
    """Skipping texts without any anchor word gives the same verdicts as scoring them."""
    folder = shared_path("eval", "relevance")
    texts = [
        (a["title"], a["text"])
        for a in map(
            json.loads, (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        )
    ]
    texts += [(None, p.read_text(encoding="utf-8")) for p in shared_path("seeds").glob("*.txt")]
    skipped = 0
    for title, text in texts:
        full = CLASSIFIER._classify(title, text)
        assert CLASSIFIER.classify(title, text, None) == full, title
        skipped += full.score == 0
    assert skipped > 0
