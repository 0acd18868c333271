"""The learners behind the relevance model, in numpy alone, so that a process that records
a mark can refit the model at once (``watcher.relevance.teach``) without a training
library. ``scripts/train_relevance.py`` fits the shipped model with the same code.

- ``fit_tie``: logistic regression by gradient descent on standardised features; the
  weights are then expressed on the raw features, so the classifier needs no scaler.
- ``Forest``: a random forest (as scikit-learn's ``RandomForestClassifier``): each tree is
  grown on a bootstrap sample, choosing each split among a few features drawn at random,
  by the mean-squared-error gain on the 0/1 label; a leaf holds the share relevant, and
  the verdict is the trees' mean. Seeded: the same data give the same forest, always.
  The draws are hashed from what they draw (an article's features, a node's place in its
  tree), not taken in turn from one generator: one more mark leaves every other
  article's place in every bootstrap sample as it was, so a refit moves what the mark
  bears on instead of reshuffling every tree.
  On a few hundred articles it varies less between folds than boosting did, and
  generalises better to a site it has not seen (README's figures).
- ``Booster``: gradient-boosted regression trees on the log-odds (binomial deviance, as
  scikit-learn's ``GradientBoostingClassifier(init="zero")``), kept to compare with.

Both take sample weights: the user's marks weigh more than the shipped examples.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numpy.typing import NDArray

from watcher.relevance.model import Node, TieModel, Trees

__all__ = ["Booster", "Forest", "fit_tie", "relevance_learner"]

Floats = NDArray[np.float64]


def fit_tie(
    xs: Floats, ys: NDArray[np.bool_], weights: Floats | None = None, *, l2: float = 1.0
) -> TieModel:
    """A logistic model of one tie over its evidence features."""
    xs = np.asarray(xs, dtype=float)
    targets = np.asarray(ys, dtype=float)
    sample = np.ones(len(targets)) if weights is None else np.asarray(weights, dtype=float)
    total = float(sample.sum())
    means = xs.mean(axis=0)
    stds = xs.std(axis=0)
    stds[stds == 0] = 1.0
    zs = (xs - means) / stds
    w, b = np.zeros(xs.shape[1]), 0.0
    rate = 0.5
    for _ in range(3000):
        p = 1.0 / (1.0 + np.exp(-np.clip(zs @ w + b, -60.0, 60.0)))
        error = sample * (p - targets)
        w -= rate * (zs.T @ error / total + l2 * w / total)
        b -= rate * float(error.sum() / total)
    raw_w = w / stds
    raw_b = b - float((w * means / stds).sum())
    return TieModel(tuple(float(v) for v in raw_w), raw_b)


class Booster:
    """Shallow trees, few of them: a few hundred articles support little more."""

    def __init__(self, n_estimators: int = 100, max_depth: int = 2, rate: float = 0.1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.rate = rate
        self.trees: list[tuple[Node, ...]] = []

    def fit(
        self, xs: Floats, ys: NDArray[np.bool_], sample_weight: Floats | None = None
    ) -> Booster:
        # Single precision, as the classifier compares (``Trees.probability``).
        x32 = np.asarray(xs, dtype=np.float32)
        targets = np.asarray(ys, dtype=float)
        weights = np.ones(len(targets)) if sample_weight is None else np.asarray(sample_weight)
        order = np.argsort(x32, axis=0, kind="stable")
        raw = np.zeros(len(targets))
        self.trees = []
        for _ in range(self.n_estimators):
            p = 1.0 / (1.0 + np.exp(-np.clip(raw, -60.0, 60.0)))
            grower = _Grower(x32, order, targets - p, weights, p * (1 - p), self.max_depth)
            tree, leaf_of = grower.grow()
            self.trees.append(tree)
            raw += self.rate * np.array([tree[leaf].value for leaf in leaf_of])
        return self

    def exported(self, top: int) -> Trees:
        return Trees(init=0.0, rate=self.rate, top=top, trees=tuple(self.trees))

    def predict_proba(self, xs: Floats) -> Floats:
        """As scikit-learn's: a column per class."""
        return _columns(self.exported(top=0), xs)


def relevance_learner() -> Forest:
    """The learner of the model's relevance part, unfitted: the shipped model's and a
    mark's refit alike (``scripts/train_relevance.py`` measures it)."""
    return Forest(n_estimators=100, max_depth=6)


class Forest:
    """Deep-ish trees on bootstrap samples, each split among a few random features."""

    def __init__(
        self,
        n_estimators: int = 100,
        max_depth: int = 5,
        features_per_split: int | None = None,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.features_per_split = features_per_split
        self.seed = seed
        self.trees: list[tuple[Node, ...]] = []

    def fit(self, xs: Floats, ys: NDArray[np.bool_], sample_weight: Floats | None = None) -> Forest:
        x32 = np.asarray(xs, dtype=np.float32)
        targets = np.asarray(ys, dtype=float)
        count, columns = x32.shape
        weights = np.ones(count) if sample_weight is None else np.asarray(sample_weight)
        order = np.argsort(x32, axis=0, kind="stable")
        per_split = self.features_per_split or max(1, round(columns**0.5))
        keys = _sample_keys(x32, targets)
        ones = np.ones(count)
        self.trees = []
        for number in range(self.n_estimators):
            tree_key = int(_mix(np.array([self.seed * 1_000_003 + number], dtype=np.uint64))[0])
            drawn = _poisson(_mix(keys ^ np.uint64(tree_key)))
            subsets = _feature_subsets(tree_key, self.max_depth, columns, per_split)
            grower = _Grower(x32, order, targets, weights * drawn, ones, self.max_depth, subsets)
            tree, _leaf_of = grower.grow(drawn > 0)
            self.trees.append(tree)
        return self

    def exported(self, top: int) -> Trees:
        return Trees(
            init=0.0, rate=1.0 / len(self.trees), top=top, trees=tuple(self.trees), average=True
        )

    def predict_proba(self, xs: Floats) -> Floats:
        """As scikit-learn's: a column per class."""
        return _columns(self.exported(top=0), xs)


# Poisson(1) counts stand for the bootstrap's multinomial ones (as in online bagging):
# each article's count in a tree is its own draw, independent of how many there are.
_POISSON = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(16)])


def _sample_keys(x32: NDArray[np.float32], targets: Floats) -> NDArray[np.uint64]:
    """A stable 64-bit name for each training row: its features, its label, and which
    copy of that row it is (articles with the same features are drawn apart)."""
    copies: dict[bytes, int] = {}
    keys = np.empty(len(targets), dtype=np.uint64)
    for index, row in enumerate(x32):
        data = row.astype("<f4").tobytes() + (b"+" if targets[index] else b"-")  # any CPU
        copy = copies.get(data, 0)
        copies[data] = copy + 1
        digest = hashlib.blake2b(data + copy.to_bytes(4, "little"), digest_size=8).digest()
        keys[index] = int.from_bytes(digest, "little")
    return keys


def _mix(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser: every bit of a value stirred into every bit of the result."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _feature_subsets(tree_key: int, max_depth: int, columns: int, size: int) -> NDArray[np.intp]:
    """Per place in a tree (row ``p``: 1 the root, 2p and 2p + 1 its children), the
    ``size`` features a node there may split on, in order: all places of one tree hashed
    at once, rather than one small hash per node as the tree grows."""
    places = np.arange(2 ** (max_depth + 1), dtype=np.uint64)
    node_keys = _mix(places ^ np.uint64(tree_key))
    ranks = _mix(node_keys[:, None] + np.arange(columns, dtype=np.uint64)[None, :])
    return np.sort(np.argsort(ranks, axis=1, kind="stable")[:, :size], axis=1)


def _poisson(hashed: NDArray[np.uint64]) -> Floats:
    """A Poisson(1) count from each hashed value (its top 53 bits as a uniform draw)."""
    uniform = (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON, uniform, side="right").astype(np.float64)


def _columns(trees: Trees, xs: Floats) -> Floats:
    positive = np.array([trees.probability(row) for row in np.asarray(xs, dtype=float)])
    return np.column_stack([1 - positive, positive])


class _Grower:
    """One regression tree, depth first (node numbers as scikit-learn's)."""

    def __init__(
        self,
        x32: NDArray[np.float32],
        order: NDArray[np.intp],
        residual: Floats,
        weights: Floats,
        hessian: Floats,
        max_depth: int,
        drawn_features: NDArray[np.intp] | None = None,
    ) -> None:
        self.x32, self.order = x32, order
        self.residual, self.weights, self.hessian = residual, weights, hessian
        self.max_depth = max_depth
        # a forest's: the features a node may split on, by its place (``_feature_subsets``)
        self.drawn_features = drawn_features
        self.nodes: list[Node] = []
        self.leaf_of = np.zeros(len(residual), dtype=np.intp)

    def grow(self, rows: NDArray[np.bool_] | None = None) -> tuple[tuple[Node, ...], list[int]]:
        self._node(np.ones(len(self.residual), dtype=bool) if rows is None else rows, 0, 1)
        return tuple(self.nodes), self.leaf_of.tolist()

    def _node(self, rows: NDArray[np.bool_], depth: int, place: int) -> int:
        """``place``: 1 for the root, 2p and 2p + 1 for the children of p."""
        index = len(self.nodes)
        self.nodes.append(Node(-1, -2.0, -1, -1, self._leaf_value(rows)))
        split = self._best_split(rows, place) if depth < self.max_depth else None
        if split is None:
            self.leaf_of[rows] = index
            return index
        feature, threshold = split
        goes_left = self.x32[:, feature] <= threshold
        left = self._node(rows & goes_left, depth + 1, 2 * place)
        right = self._node(rows & ~goes_left, depth + 1, 2 * place + 1)
        self.nodes[index] = Node(feature, threshold, left, right, self.nodes[index].value)
        return index

    def _leaf_value(self, rows: NDArray[np.bool_]) -> float:
        """One Newton step of the deviance: the weighted residuals over the curvature."""
        numerator = float((self.weights[rows] * self.residual[rows]).sum())
        denominator = float((self.weights[rows] * self.hessian[rows]).sum())
        return numerator / denominator if abs(denominator) >= 1e-150 else 0.0

    def _best_split(self, rows: NDArray[np.bool_], place: int) -> tuple[int, float] | None:
        """Every feature at once: each column's rows of this node in sorted order, their
        running sums, and Friedman's gain w_l * w_r * (mean_l - mean_r)^2 / w."""
        count = int(rows.sum())
        if count < 2:
            return None
        columns = np.arange(self.x32.shape[1])
        if self.drawn_features is not None:
            columns = self.drawn_features[place]
        order = self.order[:, columns]
        features = len(columns)
        picked = rows[order]  # n x F: which sorted positions belong to the node
        sorted_rows = order.T[picked.T].reshape(features, count).T  # count x F
        values = self.x32[sorted_rows, columns]
        weighted = (self.weights * self.residual)[sorted_rows]
        weight = self.weights[sorted_rows]
        left_sum = np.cumsum(weighted, axis=0)[:-1]
        left_weight = np.cumsum(weight, axis=0)[:-1]
        total_sum, total_weight = left_sum[-1] + weighted[-1], left_weight[-1] + weight[-1]
        right_weight = total_weight - left_weight
        with np.errstate(divide="ignore", invalid="ignore"):
            difference = left_sum / left_weight - (total_sum - left_sum) / right_weight
            gain = left_weight * right_weight * difference**2 / total_weight
        gain[~(values[:-1] < values[1:])] = -np.inf  # no split between equal values
        gain[~np.isfinite(gain)] = -np.inf
        best = int(np.argmax(gain.T))  # feature by feature, the first best position
        feature, position = divmod(best, count - 1)
        if not np.isfinite(gain[position, feature]) or gain[position, feature] <= 0:
            return None
        # Halfway between two single-precision values, in double: strictly between them.
        low, high = float(values[position, feature]), float(values[position + 1, feature])
        return int(columns[feature]), (low + high) / 2.0
