"""Compare other ways of deciding relevance with the shipped one, on unseen articles.

    pip install -e '.[train]'
    python scripts/relevance_alternatives.py [--shared ../shared] [--repeats 10]

Every candidate is scored as scripts/train_relevance.py scores the shipped trees: the
same ten 5-fold splits of the judged development articles (mean F1, its spread,
precision and recall), then with each source held out in turn. An article in which no
tie has evidence is irrelevant whatever a candidate says, as in the classifier. Last, it
lists the articles the shipped learner gets wrong in most splits, with how often each
candidate gets them wrong: whether any candidate errs on other articles, not the same.

Why it exists: to say, with figures anyone can reproduce, how far other learners, word
models and extra evidence features move the figures on articles not trained on.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from train_relevance import (
    _FOLDS,
    TOP,
    _f1,
    _fold,
    _jsonl,
    _precision,
    _source,
    fitted_labels,
    labelled_folder,
)

from watcher.relevance.classify import TIES, Scan, scan, tie_evidence
from watcher.relevance.features import FEATURE_NAMES, article_features, has_evidence
from watcher.relevance.training import Booster, relevance_learner
from watcher.relevance.wording import UNSURE, blend, embedding, evidence_text, fit_wording

Index = NDArray[np.intp]
Predict = Callable[[Index, Index], NDArray[np.float64]]  # train rows, test rows -> P(relevant)

# Other states an article may be about instead (a focus feature): US, China, Japan,
# Ukraine, Europe/NATO, in the four languages.
_OTHERS = re.compile(
    r"\bu\.s\.|\bunited states\b|\bamerica|\bwashington\b|\bwhite house\b|미국|\bсша\b|"
    r"\bchina\b|\bchinese\b|\bbeijing\b|중국|китай|пекин|"
    r"\bjapan|\btokyo\b|일본|япони|"
    r"\bukrain|\bkyiv\b|우크라이나|украин|"
    r"\bnato\b|\beurope|\beu\b|나토|유럽|нато|европ"
)


@dataclass(frozen=True, slots=True)
class Set:
    ids: list[str]
    relevant: NDArray[np.bool_]
    no_evidence: NDArray[np.bool_]
    features: NDArray[np.float64]  # what the shipped trees read
    texts: list[str]  # title and text
    evidence: list[str]  # title and the evidence sentences with their neighbours
    wording: NDArray[np.float64]  # the embeddings of ``evidence``
    extra: NDArray[np.float64]  # focus and lead features (not shipped)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    folder = labelled_folder(parser, args.shared)
    data = load(folder)
    candidates = _candidates(data)
    wrong: dict[str, NDArray[np.int_]] = {}
    for name, predict in candidates.items():
        wrong[name] = _report(name, predict, data, args.repeats)
    _persistent(data, wrong, args.repeats)


def load(folder: Path) -> Set:
    articles = {a["id"]: a for a in _jsonl(folder / "articles.jsonl")}
    labels = fitted_labels(folder)
    ids = [lab["id"] for lab in labels]
    scans = {i: scan(articles[i]["title"], articles[i]["text"]) for i in ids}
    evidence = {i: [tie_evidence(scans[i], tie) for tie in TIES] for i in ids}
    worded = [evidence_text(articles[i]["title"], scans[i]) for i in ids]
    return Set(
        ids=ids,
        relevant=np.array([lab["verdict"] == "relevant" for lab in labels]),
        no_evidence=np.array([not any(has_evidence(e) for e in evidence[i]) for i in ids]),
        features=np.array(
            [article_features(evidence[i], len(scans[i].sentences), TOP) for i in ids]
        ),
        texts=[f"{articles[i]['title']}\n{articles[i]['text']}" for i in ids],
        evidence=worded,
        wording=np.array([embedding(text) for text in worded]),
        extra=np.array([_extra(scans[i]) for i in ids]),
    )


def _extra(found: Scan) -> list[float]:
    """Focus (the share of sentences naming a state that name a party of the beat rather
    than only another state), other states' share, and the share of the first five
    sentences that carry evidence."""
    n = max(1, len(found.sentences))
    others = [bool(_OTHERS.search(s.lower())) for s in found.sentences]
    parties = [bool(named.parties) for named in found.named]
    states = sum(o or p for o, p in zip(others, parties, strict=True))
    lead = {hit.position for hit in found.hits if hit.position < 5}
    return [sum(parties) / max(1, states), sum(others) / n, len(lead) / 5]


def _candidates(data: Set) -> dict[str, Predict]:
    x, extra = data.features, data.extra
    # more evidence is never less relevant; more of it attributed or about one party alone
    # never more
    monotone = [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, -1, -1, 0, 0] * TOP
    assert len(monotone) == TOP * len(FEATURE_NAMES)
    words_whole, words_evidence = _words(data, data.texts), _words(data, data.evidence)
    trees = _fitted(data, x, relevance_learner)
    return {
        "shipped: forest, and wording where unsure": _unsure(trees, _wording(data)),
        "random forest alone (100, depth 6)": trees,
        "boosted trees (100, depth 2; shipped before)": _fitted(data, x, Booster),
        "boosted trees, half subsamples": _fitted(
            data,
            x,
            lambda: GradientBoostingClassifier(
                init="zero", subsample=0.5, n_estimators=200, max_depth=2, random_state=0
            ),
        ),
        "boosted trees, depth 3": _fitted(data, x, lambda: Booster(max_depth=3)),
        "random forest (500)": _fitted(
            data, x, lambda: RandomForestClassifier(500, min_samples_leaf=2, random_state=0)
        ),
        "monotone histogram boosting": _fitted(
            data,
            x,
            lambda: HistGradientBoostingClassifier(
                monotonic_cst=monotone, max_depth=2, min_samples_leaf=5, random_state=0
            ),
        ),
        "logistic regression": _fitted(
            data,
            x,
            lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
        ),
        "forest + focus and lead features": _fitted(
            data, np.column_stack([x, extra]), relevance_learner
        ),
        "words (tf-idf LR), whole text": words_whole,
        "words (tf-idf LR), evidence sentences": words_evidence,
        "mean of forest and evidence words": _mean(trees, words_evidence),
    }


def _fitted(data: Set, x: NDArray[np.float64], make: Callable[[], Any]) -> Predict:
    def predict(train: Index, test: Index) -> NDArray[np.float64]:
        model = make()
        model.fit(x[train], data.relevant[train])
        return np.asarray(model.predict_proba(x[test])[:, 1])

    return predict


def _words(data: Set, texts: list[str]) -> Predict:
    def predict(train: Index, test: Index) -> NDArray[np.float64]:
        vectoriser = TfidfVectorizer(sublinear_tf=True, min_df=2)
        fitted = vectoriser.fit_transform([texts[i] for i in train])
        model = LogisticRegression(C=10, max_iter=3000, class_weight="balanced")
        model.fit(fitted, data.relevant[train])
        return np.asarray(model.predict_proba(vectoriser.transform([texts[i] for i in test]))[:, 1])

    return predict


def _wording(data: Set) -> Predict:
    def predict(train: Index, test: Index) -> NDArray[np.float64]:
        model = fit_wording(data.wording[train], data.relevant[train])
        return np.array([model.probability(data.wording[i]) for i in test])

    return predict


def _unsure(first: Predict, second: Predict) -> Predict:
    """``first``, and where it is within ``UNSURE`` of one half, its mean with
    ``second``: the shipped classifier's rule."""

    def predict(train: Index, test: Index) -> NDArray[np.float64]:
        sure = first(train, test)
        return np.where(np.abs(sure - 0.5) <= UNSURE, blend(sure, second(train, test)), sure)

    return predict


def _mean(first: Predict, second: Predict) -> Predict:
    return lambda train, test: (first(train, test) + second(train, test)) / 2


def _report(name: str, predict: Predict, data: Set, repeats: int) -> NDArray[np.int_]:
    """Print the figures; return how many splits got each article wrong."""
    wrong = np.zeros(len(data.ids), dtype=int)
    figures = []
    for repeat in range(repeats):
        said = verdicts(predict, data, repeat)
        wrong += said != data.relevant
        figures.append(_figures(said, data.relevant))
    sources = np.array([_source(i) for i in data.ids])
    rows = np.arange(len(data.ids))
    held_out = _figures(
        _out_of_fold(predict, data, [rows[sources == s] for s in sorted(set(sources))]),
        data.relevant,
    )
    mean = np.mean(figures, axis=0)
    print(
        f"{name:40s} F1 {mean[0]:.3f} (sd {np.std([f[0] for f in figures]):.3f})"
        f" P {mean[1]:.3f} R {mean[2]:.3f} | source held out: F1 {held_out[0]:.3f}"
        f" P {held_out[1]:.3f} R {held_out[2]:.3f}"
    )
    return wrong


def verdicts(predict: Predict, data: Set, repeat: int) -> NDArray[np.bool_]:
    """Each article's verdict from a model fitted without its fold, on the training
    script's split number ``repeat``."""
    rows = np.arange(len(data.ids))
    folds = np.array([_fold(i, repeat) for i in data.ids])
    return _out_of_fold(predict, data, [rows[folds == k] for k in range(_FOLDS)])


def _out_of_fold(predict: Predict, data: Set, folds: list[Index]) -> NDArray[np.bool_]:
    scores = np.zeros(len(data.ids))
    for test in folds:
        train = np.setdiff1d(np.arange(len(data.ids)), test)
        scores[test] = predict(train, test)
    return (scores >= 0.5) & ~data.no_evidence


def _figures(said: NDArray[np.bool_], truth: NDArray[np.bool_]) -> tuple[float, float, float]:
    """F1, precision and recall, as the training script computes them."""
    predicted, wanted = said.tolist(), truth.tolist()
    return _f1(predicted, wanted), _precision(predicted, wanted), _precision(wanted, predicted)


def _persistent(data: Set, wrong: dict[str, NDArray[np.int_]], repeats: int) -> None:
    shipped = next(iter(wrong.values()))
    names = list(wrong)
    print("\narticles the shipped trees get wrong in at least half the splits, and how often")
    print("each candidate above (in its order) gets them wrong:")
    for row in np.argsort(-shipped, kind="stable"):
        if shipped[row] * 2 < repeats:
            break
        kind = "missed" if data.relevant[row] else "false alarm"
        counts = " ".join(f"{wrong[name][row]:2d}" for name in names)
        print(f"  {kind:11s} {data.ids[row][:40]:40s} {counts}")


if __name__ == "__main__":
    main()
