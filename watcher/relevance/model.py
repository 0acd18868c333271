"""The shipped relevance model: what scripts/train_relevance.py writes and the classifier
reads. Pure; no training library is needed to use it.

Three parts, the first two over the evidence features of ``watcher.relevance.features``:

- one logistic model per tie, which says how strongly an article bears on that tie
  (its labels, and the tie the digest files it under);
- a random forest over the strongest ties' features together, which says whether the
  article is relevant at all. Trees see what a sum of weights cannot: that two ties'
  evidence adds up, or that one paragraph of evidence is a passing mention in a long
  article and the subject of a short one. Cross-validated on the labelled articles of
  both rounds (ten splits), the forest reaches F1 0.822 where the boosted trees before
  it reached 0.770 (README, "How relevance is decided");
- a logistic model over the embedding of the evidence's wording
  (``watcher.relevance.wording``), asked where the forest is unsure.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watcher.relevance.features import FEATURE_NAMES
from watcher.relevance.wording import DIMENSIONS, WordingModel

__all__ = [
    "MODEL_FILE",
    "Model",
    "Node",
    "TieModel",
    "Trees",
    "load_model",
    "model_document",
    "model_from_document",
    "sigmoid",
]

MODEL_FILE = Path(__file__).parent.parent / "data" / "relevance_model.json"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True, slots=True)
class TieModel:
    weights: tuple[float, ...]
    bias: float

    def probability(self, values: Sequence[float]) -> float:
        return sigmoid(self.bias + sum(w * v for w, v in zip(self.weights, values, strict=True)))


@dataclass(frozen=True, slots=True)
class Node:
    """A split (``feature`` >= 0: go left when the value <= ``threshold``) or a leaf."""

    feature: int
    threshold: float
    left: int
    right: int
    value: float


@dataclass(frozen=True, slots=True)
class Trees:
    """Regression trees: boosted on the log-odds of relevance, or a forest whose leaves
    hold the share relevant (``average``), the verdict their mean."""

    init: float
    rate: float
    top: int  # how many ties' features it reads, strongest first
    trees: tuple[tuple[Node, ...], ...]
    average: bool = False

    def probability(self, values: Sequence[float]) -> float:
        # The trees were fitted on single-precision values: compare in it too, or a
        # value on a threshold could go the other way.
        single = array("f", values)
        total = 0.0
        for tree in self.trees:
            node = tree[0]
            while node.feature >= 0:
                node = tree[node.left if single[node.feature] <= node.threshold else node.right]
            total += node.value
        if self.average:  # a mean of shares, kept in [0, 1] against rounding
            return min(1.0, total / len(self.trees)) if self.trees else 0.0
        return sigmoid(self.init + self.rate * total)


@dataclass(frozen=True, slots=True)
class Model:
    ties: dict[str, TieModel]
    relevance: Trees
    wording: WordingModel | None = None  # a second opinion where the trees are unsure


def load_model(path: Path = MODEL_FILE) -> Model:
    try:
        return model_from_document(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def model_from_document(data: dict[str, Any]) -> Model:
    """A model from its JSON document (the shipped file, or a taught model's row)."""
    if tuple(data["features"]) != FEATURE_NAMES:
        raise ValueError("trained on other features than this code computes")
    trees = data["relevance"]
    wording = data.get("wording")
    if wording is not None and len(wording["weights"]) != DIMENSIONS:
        raise ValueError("its wording model reads other embeddings than this code makes")
    return Model(
        ties={
            tie: TieModel(tuple(model["weights"]), float(model["bias"]))
            for tie, model in data["ties"].items()
        },
        relevance=Trees(
            init=float(trees["init"]),
            rate=float(trees["rate"]),
            top=int(trees["top"]),
            trees=tuple(tuple(Node(*node) for node in tree) for tree in trees["trees"]),
            average=bool(trees.get("average", False)),
        ),
        wording=None
        if wording is None
        else WordingModel(tuple(wording["weights"]), float(wording["bias"])),
    )


def model_document(model: Model, trained_on: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "features": list(FEATURE_NAMES),
        "trained_on": trained_on,
        "ties": {
            tie: {"weights": [round(w, 6) for w in m.weights], "bias": round(m.bias, 6)}
            for tie, m in model.ties.items()
        },
        "relevance": {
            "init": model.relevance.init,
            "rate": model.relevance.rate,
            "top": model.relevance.top,
            "average": model.relevance.average,
            "trees": [
                [[n.feature, n.threshold, n.left, n.right, n.value] for n in tree]
                for tree in model.relevance.trees
            ],
        },
    }
    if model.wording is not None:
        document["wording"] = {
            "weights": [round(w, 6) for w in model.wording.weights],
            "bias": round(model.wording.bias, 6),
        }
    return document
