"""Train the relevance weights from the labelled development set.

    python scripts/train_relevance.py [--shared ../shared] [--l2 1.0] [--write]

One logistic regression per tie over the evidence features of watcher.relevance_features
(a handful of numbers, not words). Reproduces watcher/data/relevance_model.json with
--write. Prints 5-fold cross-validated figures first: the shipped model is fitted on
all judged articles, and the folds show how it does on articles it has not seen.
Borderline articles and ties only one reader gave are left out of training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

from watcher.classify import TIES, TieModel, scan, tie_evidence
from watcher.relevance_features import FEATURE_NAMES, features

MODEL = Path(__file__).resolve().parents[1] / "watcher" / "data" / "relevance_model.json"
Sample = tuple[str, tuple[float, ...], bool]  # id, features, label


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty on standardised weights")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL}")
    args = parser.parse_args()
    data = _samples(args.shared / "eval" / "relevance")
    _cross_validate(data, args.l2)
    models = {tie: fit(samples, args.l2) for tie, samples in data.items()}
    if args.write:
        MODEL.parent.mkdir(parents=True, exist_ok=True)
        MODEL.write_text(json.dumps(_serialise(models), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL}")


def _samples(folder: Path) -> dict[str, list[Sample]]:
    articles = {a["id"]: a for a in _jsonl(folder / "articles.jsonl")}
    data: dict[str, list[Sample]] = {tie: [] for tie in TIES}
    for label in _jsonl(folder / "dev_labels.jsonl"):
        if label["verdict"] == "borderline":
            continue
        article = articles[label["id"]]
        found = scan(article["title"], article["text"])
        for tie in TIES:
            if tie in label.get("ties_optional", []):
                continue
            values = features(tie_evidence(found, tie), len(found.sentences))
            data[tie].append((label["id"], values, tie in label["ties"]))
    return data


def fit(samples: list[Sample], l2: float, steps: int = 3000) -> TieModel:
    """Logistic regression by gradient descent on standardised features, then the
    weights are expressed on the raw features so the classifier needs no scaler."""
    xs = [values for _id, values, _label in samples]
    ys = [1.0 if label else 0.0 for _id, _values, label in samples]
    k = len(FEATURE_NAMES)
    means = [sum(x[j] for x in xs) / len(xs) for j in range(k)]
    stds = [math.sqrt(sum((x[j] - means[j]) ** 2 for x in xs) / len(xs)) or 1.0 for j in range(k)]
    zs = [[(x[j] - means[j]) / stds[j] for j in range(k)] for x in xs]
    w, b = [0.0] * k, 0.0
    rate = 0.5
    for _ in range(steps):
        grad_w, grad_b = [l2 * wj / len(zs) for wj in w], 0.0
        for z, y in zip(zs, ys, strict=True):
            p = 1.0 / (
                1.0
                + math.exp(
                    -max(-60.0, min(60.0, b + sum(a * c for a, c in zip(w, z, strict=True))))
                )
            )
            for j in range(k):
                grad_w[j] += (p - y) * z[j] / len(zs)
            grad_b += (p - y) / len(zs)
        w = [wj - rate * g for wj, g in zip(w, grad_w, strict=True)]
        b -= rate * grad_b
    raw_w = tuple(w[j] / stds[j] for j in range(k))
    raw_b = b - sum(w[j] * means[j] / stds[j] for j in range(k))
    return TieModel(raw_w, raw_b)


def _cross_validate(data: dict[str, list[Sample]], l2: float, folds: int = 5) -> None:
    """Figures on held-out folds (articles split by a hash of their id)."""
    predictions: dict[str, dict[str, bool]] = {tie: {} for tie in TIES}
    truth: dict[str, bool] = {}
    for tie, samples in data.items():
        for fold in range(folds):
            train = [s for s in samples if _fold(s[0], folds) != fold]
            model = fit(train, l2)
            for sample_id, values, label in samples:
                if _fold(sample_id, folds) == fold:
                    evidence_free = values[0] == 0 and values[1] == 0 and values[3] == 0
                    predicted = not evidence_free and model.probability(values) >= 0.5
                    predictions[tie][sample_id] = predicted
                    truth[sample_id] = truth.get(sample_id, False) or label
    ids = sorted(truth)
    relevant = [any(predictions[t].get(i, False) for t in TIES) for i in ids]
    _print("relevant (cross-validated)", relevant, [truth[i] for i in ids])
    for tie, samples in data.items():
        _print(f"  {tie}", [predictions[tie][s[0]] for s in samples], [s[2] for s in samples])


def _print(name: str, predicted: list[bool], wanted: list[bool]) -> None:
    tp = sum(p and w for p, w in zip(predicted, wanted, strict=True))
    fp = sum(p and not w for p, w in zip(predicted, wanted, strict=True))
    fn = sum(w and not p for p, w in zip(predicted, wanted, strict=True))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    print(
        f"{name:28s} precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}"
        f" (tp {tp} fp {fp} fn {fn})"
    )


def _fold(sample_id: str, folds: int) -> int:
    return int(hashlib.sha256(sample_id.encode()).hexdigest(), 16) % folds


def _serialise(models: dict[str, TieModel]) -> dict[str, object]:
    return {
        "features": list(FEATURE_NAMES),
        "trained_on": "shared/eval/relevance/dev_labels.jsonl (borderline excluded)",
        "ties": {
            tie: {"weights": [round(w, 6) for w in m.weights], "bias": round(m.bias, 6)}
            for tie, m in models.items()
        },
    }


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


if __name__ == "__main__":
    main()
