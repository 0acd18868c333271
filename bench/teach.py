"""What an analyst's marks teach, measured on the labelled development set.

    python bench/teach.py [--shared ../shared] [--repeats 10] [--weight 5] [--folds 5]

In each of ten 5-fold splits, the model is fitted on four folds (the shipped examples'
stand-in); the fifth fold is unseen. Half of it is marked, as an analyst would mark
articles (verdict and ties), and the model refitted with those marks as
watcher.relevance.teach does, marks weighing ``--weight``; the other half is scored by
the classifier before and after (the refitted model, and the marks' pull on similar
articles). Prints precision, recall and F1 on the scored halves, before and after, summed
over the folds of each split and averaged over splits, and the verdicts that changed.
``--folds 2`` is nearer the held-out bar of issue 22, where the marks (half the held-out
set) are half as many as the shipped examples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _shared import add_shared_option, shared_folder

from watcher.relevance.classify import Example, KeywordClassifier
from watcher.relevance.lexicon import default_lexicon
from watcher.relevance.similarity import vector
from watcher.relevance.teach import MARK_WEIGHT, Judged, TrainingSet, fit_model, judged

_FOLDS = 5
_TOP = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--weight", type=float, default=MARK_WEIGHT)
    parser.add_argument("--folds", type=int, default=_FOLDS)
    args = parser.parse_args()
    if args.folds < 2:
        parser.error("--folds must be 2 or more: one fold is fitted on, another scored")
    folder = shared_folder(parser, args.shared, "eval/relevance")
    articles = {a["id"]: a for a in _jsonl(folder / "articles.jsonl")}
    labels = [lab for lab in _jsonl(folder / "dev_labels.jsonl") if lab["verdict"] != "borderline"]
    lexicon = default_lexicon()
    read = {
        lab["id"]: judged(
            articles[lab["id"]]["title"],
            articles[lab["id"]]["text"],
            lab["verdict"] == "relevant",
            lab["ties"],
            lexicon,
            _TOP,
        )
        for lab in labels
    }
    truth = {lab["id"]: lab["verdict"] == "relevant" for lab in labels}
    started = time.perf_counter()
    before_runs, after_runs, moved = [], [], [0, 0]
    fits = 0
    for repeat in range(args.repeats):
        before: list[tuple[bool, bool]] = []
        after: list[tuple[bool, bool]] = []
        for fold in range(args.folds):
            train = [i for i in truth if _fold(i, repeat, args.folds) != fold]
            unseen = [i for i in truth if _fold(i, repeat, args.folds) == fold]
            marked = [i for i in unseen if _half(i, repeat) == 0]
            scored = [i for i in unseen if _half(i, repeat) == 1]
            base = _training([read[i] for i in train])
            plain = KeywordClassifier(0.5, model=fit_model(base))
            taught = KeywordClassifier(
                0.5,
                model=fit_model(base, [read[i] for i in marked], args.weight),
                examples=[_example(articles[i], truth[i]) for i in marked],
            )
            fits += 2
            for i in scored:
                a = articles[i]
                was = plain.classify(a["title"], a["text"], a["lang"]).relevant
                now = taught.classify(a["title"], a["text"], a["lang"]).relevant
                before.append((was, truth[i]))
                after.append((now, truth[i]))
                if was != now:
                    moved[now == truth[i]] += 1
        before_runs.append(_figures(before))
        after_runs.append(_figures(after))
    seconds = time.perf_counter() - started
    print(
        f"{len(truth)} judged articles, {args.repeats} splits of {args.folds} folds; half of each "
        f"unseen fold marked (weight {args.weight:g}), the other half scored"
    )
    for name, runs in (("before marks", before_runs), ("after marks", after_runs)):
        p, r, f = (sum(run[k] for run in runs) / len(runs) for k in range(3))
        print(f"{name:14s} precision {p:.3f} recall {r:.3f} F1 {f:.3f}")
    print(f"verdicts changed: {moved[1]} to the label, {moved[0]} away from it (all splits)")
    print(
        f"{fits} refits in {seconds:.1f} s with the scoring ({seconds / fits:.2f} s each at most)"
    )


def _training(judged_articles: list[Judged]) -> TrainingSet:
    ties: dict[str, list[tuple[tuple[float, ...], bool]]] = {}
    for one in judged_articles:
        for tie, sample in one.ties.items():
            ties.setdefault(tie, []).append(sample)
    return TrainingSet(
        [(one.article, one.relevant) for one in judged_articles],
        ties,
        _TOP,
        np.array([one.wording for one in judged_articles]),
    )


def _example(article: dict[str, Any], relevant: bool) -> Example:
    title = article["title"] or ""
    return Example(title, vector(f"{title}\n{article['text']}"), relevant, ())


def _figures(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(got and want for got, want in pairs)
    fp = sum(got and not want for got, want in pairs)
    fn = sum(want and not got for got, want in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _fold(article_id: str, repeat: int, folds: int) -> int:
    # The development labels are the ids whose hash is even: unsalted, an even number of
    # folds would put them all in one.
    salted = article_id if repeat == 0 and folds % 2 else f"{repeat}:{folds}:{article_id}"
    return int(hashlib.sha256(salted.encode()).hexdigest(), 16) % folds


def _half(article_id: str, repeat: int) -> int:
    return int(hashlib.sha256(f"half:{repeat}:{article_id}".encode()).hexdigest(), 16) % 2


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


if __name__ == "__main__":
    main()
