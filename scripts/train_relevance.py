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

import numpy as np

from watcher.classify import TIES, TieModel, scan, tie_evidence
from watcher.relevance_features import FEATURE_NAMES, features

MODEL = Path(__file__).resolve().parents[1] / "watcher" / "data" / "relevance_model.json"
Sample = tuple[str, tuple[float, ...], bool]  # id, features, label
_REPEATS = 10


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
    xs = np.array([values for _id, values, _label in samples], dtype=float)
    ys = np.array([1.0 if label else 0.0 for _id, _values, label in samples])
    means = xs.mean(axis=0)
    stds = xs.std(axis=0)
    stds[stds == 0] = 1.0
    zs = (xs - means) / stds
    n = len(ys)
    w, b = np.zeros(len(FEATURE_NAMES)), 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(zs @ w + b, -60.0, 60.0)))
        w -= rate * (zs.T @ (p - ys) / n + l2 * w / n)
        b -= rate * float((p - ys).mean())
    raw_w = w / stds
    raw_b = b - float((w * means / stds).sum())
    return TieModel(tuple(float(v) for v in raw_w), raw_b)


def _cross_validate(data: dict[str, list[Sample]], l2: float, folds: int = 5) -> None:
    """Figures on held-out folds: one split printed in full, then the mean and spread
    over ten splits (on 183 articles one split moves F1 by a few hundredths)."""
    runs = [_predict_folds(data, l2, folds, repeat) for repeat in range(_REPEATS)]
    truth: dict[str, bool] = {}
    for samples in data.values():
        for sample_id, _values, label in samples:
            truth[sample_id] = truth.get(sample_id, False) or label
    ids = sorted(truth)
    wanted = [truth[i] for i in ids]
    first = runs[0]
    _print("relevant (cross-validated)", _relevant(first, ids), wanted)
    for tie, samples in data.items():
        _print(f"  {tie}", [first[tie][s[0]] for s in samples], [s[2] for s in samples])
    scores = [_f1(_relevant(run, ids), wanted) for run in runs]
    mean = sum(scores) / len(scores)
    spread = math.sqrt(sum((f - mean) ** 2 for f in scores) / len(scores))
    print(f"relevant F1 over {_REPEATS} splits: mean {mean:.3f}, sd {spread:.3f}")
    for tie, samples in data.items():
        tie_scores = [
            _f1([run[tie][s[0]] for s in samples], [s[2] for s in samples]) for run in runs
        ]
        print(f"  {tie:26s} F1 mean {sum(tie_scores) / len(tie_scores):.3f}")


def _predict_folds(
    data: dict[str, list[Sample]], l2: float, folds: int, repeat: int
) -> dict[str, dict[str, bool]]:
    """Each article's verdict per tie from the model fitted without its fold."""
    predictions: dict[str, dict[str, bool]] = {tie: {} for tie in data}
    for tie, samples in data.items():
        for fold in range(folds):
            model = fit([s for s in samples if _fold(s[0], folds, repeat) != fold], l2)
            for sample_id, values, _label in samples:
                if _fold(sample_id, folds, repeat) == fold:
                    evidence_free = values[0] == 0 and values[1] == 0 and values[3] == 0
                    predicted = not evidence_free and model.probability(values) >= 0.5
                    predictions[tie][sample_id] = predicted
    return predictions


def _relevant(predictions: dict[str, dict[str, bool]], ids: list[str]) -> list[bool]:
    return [any(by_id.get(i, False) for by_id in predictions.values()) for i in ids]


def _f1(predicted: list[bool], wanted: list[bool]) -> float:
    tp = sum(p and w for p, w in zip(predicted, wanted, strict=True))
    wrong = sum(p != w for p, w in zip(predicted, wanted, strict=True))
    return 2 * tp / (2 * tp + wrong) if tp + wrong else float("nan")


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


def _fold(sample_id: str, folds: int, repeat: int = 0) -> int:
    """Articles split by a hash of their id (the first split hashes the id alone)."""
    salted = sample_id if repeat == 0 else f"{repeat}:{sample_id}"
    return int(hashlib.sha256(salted.encode()).hexdigest(), 16) % folds


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
