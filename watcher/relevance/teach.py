"""The analyst's marks as training data: refit the relevance model on the shipped examples
and every marked article, at every mark.

The shipped examples are the labelled articles the shipped model was fitted on, kept as
their evidence features (``watcher/data/relevance_examples.json``, written by
``scripts/train_relevance.py``; no text) and the embeddings of their evidence's
wording (``watcher/data/relevance_wording.npy``, half precision). A marked article joins
them with the user's verdict and ties, weighing ``MARK_WEIGHT`` times a shipped one: the
user's own sources and judgement. The refit is deterministic (the same marks give the
same model); each marked article is read again at a refit (a few milliseconds), but its
wording is embedded only once (20 ms): the embedding is kept in the database.
The model is stored in the database under the mark's model version, so every process
(the daemon, the next command) classifies with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from watcher.relevance.classify import scan, tie_evidence
from watcher.relevance.features import FEATURE_NAMES, article_features, features
from watcher.relevance.lexicon import Lexicon, Party, Topic
from watcher.relevance.model import (
    MODEL_FILE,
    Model,
    load_model,
    model_document,
    model_from_document,
)
from watcher.relevance.training import fit_tie, relevance_learner
from watcher.relevance.wording import (
    DIMENSIONS,
    embedding,
    evidence_text,
    fit_wording,
    kept_in,
)
from watcher.store import Store

__all__ = [
    "EXAMPLES_FILE",
    "MARK_WEIGHT",
    "WORDING_FILE",
    "WORDING_MARK_WEIGHT",
    "Judged",
    "TrainingSet",
    "fit_model",
    "judged",
    "refit",
    "shipped_examples",
    "taught_model",
]

EXAMPLES_FILE = Path(__file__).parent.parent / "data" / "relevance_examples.json"
WORDING_FILE = Path(__file__).parent.parent / "data" / "relevance_wording.npy"
MARK_WEIGHT = 5.0  # a marked article against a shipped one (bench/teach.py measures it)
# In the wording's 512 dimensions a heavy mark is learnt by heart rather than
# generalised. bench/teach.py, ten splits, with the forest's hashed draws: a mark
# weighing 1 there moved 16 verdicts to the label and 9 away (F1 0.870 to 0.875), 2
# moved 20 and 9 (0.879), 5 moved 24 and 12 (0.881); with --folds 2, 46 and 24, 50 and
# 25, 56 and 33 (F1 0.871, 0.873, 0.871; precision 0.901, 0.907, 0.903).
WORDING_MARK_WEIGHT = 2.0
Sample = tuple[tuple[float, ...], bool]
Vector = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Judged:
    """One judged article as the learners read it."""

    article: tuple[float, ...]  # the strongest ties' features
    relevant: bool
    ties: dict[str, Sample]  # per tie judged: its features and whether it bears on it
    wording: Vector  # the embedding of its evidence's wording


@dataclass(frozen=True, slots=True)
class TrainingSet:
    articles: list[Sample]
    ties: dict[str, list[Sample]]
    top: int
    wording: NDArray[np.float64]  # one embedding a row, in the order of ``articles``

    def document(self) -> dict[str, Any]:
        def rows(samples: list[Sample]) -> list[list[float]]:
            return [[*values, 1.0 if label else 0.0] for values, label in samples]

        return {
            "features": list(FEATURE_NAMES),
            "top": self.top,
            "articles": rows(self.articles),
            "ties": {tie: rows(samples) for tie, samples in self.ties.items()},
        }

    def with_judged(self, more: Sequence[Judged]) -> TrainingSet:
        ties = {tie: list(samples) for tie, samples in self.ties.items()}
        for one in more:
            for tie, sample in one.ties.items():
                if tie in ties:
                    ties[tie].append(sample)
        return TrainingSet(
            [*self.articles, *((one.article, one.relevant) for one in more)],
            ties,
            self.top,
            np.vstack([self.wording, *(one.wording for one in more)]),
        )


def judged(
    title: str | None,
    text: str,
    relevant: bool,
    ties: Sequence[str] | None,
    lexicon: Lexicon,
    top: int,
) -> Judged:
    """``ties``: those the article bears on; None (relevant, none named): unknown, so it
    teaches whether it is relevant but no tie's model."""
    found = scan(title, text, lexicon)
    n = len(found.sentences)
    evidence = {tie: tie_evidence(found, tie) for tie in lexicon.names}
    per_tie: dict[str, Sample] = {}
    if ties is not None or not relevant:
        given = set(ties or ())
        per_tie = {
            tie: (features(tie_found, n), relevant and tie in given)
            for tie, tie_found in evidence.items()
        }
    return Judged(
        article_features(list(evidence.values()), n, top),
        relevant,
        per_tie,
        embedding(evidence_text(title, found)),
    )


def fit_model(
    base: TrainingSet, marks: Sequence[Judged] = (), marked_weight: float = MARK_WEIGHT
) -> Model:
    """The three parts fitted on ``base`` (weight 1) and ``marks`` (``marked_weight``;
    in the wording's model, ``WORDING_MARK_WEIGHT``)."""
    both = base.with_judged(marks)
    ties = {}
    for tie, samples in both.ties.items():
        count = len(base.ties[tie])
        ties[tie] = fit_tie(
            np.array([values for values, _label in samples]),
            np.array([label for _values, label in samples]),
            _weights(count, len(samples) - count, marked_weight),
        )
    xs = np.array([values for values, _label in both.articles])
    ys = np.array([label for _values, label in both.articles])
    shipped = len(base.articles)
    learner = relevance_learner().fit(xs, ys, _weights(shipped, len(ys) - shipped, marked_weight))
    worded = _weights(shipped, len(ys) - shipped, WORDING_MARK_WEIGHT)
    return Model(ties, learner.exported(base.top), fit_wording(both.wording, ys, worded))


def _weights(shipped: int, marked: int, marked_weight: float) -> np.ndarray[Any, Any]:
    return np.concatenate([np.ones(shipped), np.full(marked, marked_weight)])


@cache
def shipped_examples(path: Path = EXAMPLES_FILE) -> TrainingSet:
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURE_NAMES:
        raise ValueError(f"{path}: written for other features than this code computes")

    def samples(rows: list[list[float]]) -> list[Sample]:
        return [(tuple(row[:-1]), row[-1] == 1.0) for row in rows]

    articles = samples(data["articles"])
    wording = np.load(WORDING_FILE).astype(np.float64)
    if wording.shape != (len(articles), DIMENSIONS):
        raise ValueError(f"{WORDING_FILE}: not one embedding for each of {path}'s articles")
    ties = {tie: samples(rows) for tie, rows in data["ties"].items()}
    return TrainingSet(articles, ties, int(data["top"]), wording)


def base_fingerprint(lexicon: Lexicon) -> str:
    """What a taught model was fitted from besides the marks: the shipped examples, the
    lexicon the marked articles were read with, and the shipped model (refitted whenever
    the learners change, as when the forest's draws did), and what a mark weighs. Any
    changed: refit."""
    digest = hashlib.sha256(f"marks={MARK_WEIGHT!r},{WORDING_MARK_WEIGHT!r};".encode())
    digest.update(EXAMPLES_FILE.read_bytes())
    digest.update(WORDING_FILE.read_bytes())
    digest.update(MODEL_FILE.read_bytes())
    parts: list[Party | Topic | Lexicon] = [*lexicon.parties.values(), *lexicon.topics, lexicon]
    for part in parts:
        for field in dataclasses.fields(part):
            if part is lexicon and field.name in ("parties", "topics"):
                continue  # read above, one by one
            value = getattr(part, field.name)
            # a pattern by its whole text: its repr stops at 200 characters
            text = value.pattern if isinstance(value, re.Pattern) else value
            digest.update(f"{field.name}={text!r};".encode())
    return digest.hexdigest()[:16]


def refit(store: Store, lexicon: Lexicon, version: int, now: datetime) -> Model:
    """The model fitted on the shipped examples and every mark now, stored as
    ``version``; with no marks, the shipped model."""
    marks = store.marked_examples()
    if not marks:
        return load_model()
    shipped = shipped_examples()
    with kept_in(store):  # a marked article's wording was embedded at an earlier refit
        more = [
            judged(title, text, mark == "relevant", labels or None, lexicon, shipped.top)
            for title, text, mark, labels in marks
        ]
    model = fit_model(shipped, more)
    document = model_document(model, f"shipped examples and {len(marks)} marks")
    document["base"] = base_fingerprint(lexicon)
    store.save_taught_model(version, json.dumps(document), len(marks), now)
    return model


def taught_model(store: Store, lexicon: Lexicon, now: datetime) -> Model | None:
    """The model the user's marks taught, refitted first when it is missing or older
    than the last mark, or the shipped examples or lexicon changed since; None when
    nothing was marked (the shipped model stands)."""
    version = store.model_version()
    if version == 0:
        return None
    stored = store.taught_model()
    if stored is not None and stored[0] >= version:
        document = json.loads(stored[1])
        if document.get("base") == base_fingerprint(lexicon):
            try:
                return model_from_document(document)
            except ValueError:
                pass  # written by another version of watcher: refit below
    return refit(store, lexicon, version, now)
