"""The relevance classifier on the labelled development set.

    python bench/relevance.py [--threshold 0.5] [--shared ../shared] [--quiet]

Prints precision, recall and F1 for "relevant" overall, per tie and per language, the
confusion list (false positives and negatives with their ids and scores), the borderline
articles (the two readers disagreed: excluded from the figures), and articles per second
on one core. A tie that only one reader gave (ties_optional) is counted neither way.

The shipped model was fitted on these articles (both rounds), so these figures are
in-sample; scripts/train_relevance.py prints the cross-validated ones, which say how it
does on articles it has not seen.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from _shared import add_shared_option, shared_folder

from watcher.relevance.classify import TIES, KeywordClassifier, Verdict

_PASSES = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=0.5)
    add_shared_option(parser)
    parser.add_argument("--quiet", action="store_true", help="figures only, no confusion list")
    args = parser.parse_args()
    folder = shared_folder(parser, args.shared, "eval/relevance")
    articles = {a["id"]: a for a in _jsonl(folder / "articles.jsonl")}
    labels = _jsonl(folder / "dev_labels.jsonl")
    classifier = KeywordClassifier(args.threshold)

    seconds = float("inf")
    for _ in range(_PASSES):  # the fastest pass: the others met a busy machine
        start = time.perf_counter()
        verdicts = {
            label["id"]: classifier.classify(
                articles[label["id"]]["title"],
                articles[label["id"]]["text"],
                articles[label["id"]]["lang"],
            )
            for label in labels
        }
        seconds = min(seconds, time.perf_counter() - start)
    chars = sum(len(articles[label["id"]]["text"]) for label in labels)

    judged = [label for label in labels if label["verdict"] != "borderline"]
    unseen = {str(a["id"]) for a in articles.values() if a.get("added")}
    print(
        f"threshold {args.threshold}: {len(judged)} articles judged, "
        f"{len(labels) - len(judged)} borderline; the model was fitted on all of them, both "
        "rounds, so these figures are in-sample (scripts/train_relevance.py prints "
        "cross-validated ones)"
    )
    is_relevant = lambda lab: lab["verdict"] == "relevant"  # noqa: E731
    print(_figures("relevant", _counts(judged, verdicts, is_relevant)))
    first = [lab for lab in judged if lab["id"] not in unseen]
    print(_figures("  first round", _counts(first, verdicts, is_relevant)))
    later = [lab for lab in judged if lab["id"] in unseen]
    print(_figures("  second round (hard kinds)", _counts(later, verdicts, is_relevant)))
    for tie in TIES:
        counts = _tie_counts(judged, verdicts, tie)
        print(_figures(f"  {tie}", counts))
    by_language: dict[str, list[dict[str, object]]] = defaultdict(list)
    for label in judged:
        by_language[str(articles[label["id"]]["lang"])].append(label)
    for language, group in sorted(by_language.items()):
        counts = _counts(group, verdicts, lambda lab: lab["verdict"] == "relevant")
        print(_figures(f"  [{language}] n={len(group)}", counts))
    print(
        f"speed: {len(labels) / seconds:.0f} articles/s on one core, fastest of {_PASSES} passes "
        f"(mean {chars / len(labels):.0f} characters)"
    )
    if not args.quiet:
        _confusion(labels, verdicts, articles)


def _counts(
    labels: list[dict[str, object]], verdicts: dict[str, Verdict], truth
) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    tp = sum(1 for lab in labels if verdicts[str(lab["id"])].relevant and truth(lab))
    fp = sum(1 for lab in labels if verdicts[str(lab["id"])].relevant and not truth(lab))
    fn = sum(1 for lab in labels if not verdicts[str(lab["id"])].relevant and truth(lab))
    return tp, fp, fn


def _tie_counts(
    labels: list[dict[str, object]], verdicts: dict[str, Verdict], tie: str
) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for label in labels:
        if tie in label.get("ties_optional", []):  # type: ignore[operator]
            continue
        got, want = tie in verdicts[str(label["id"])].labels, tie in label["ties"]  # type: ignore[operator]
        tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
    return tp, fp, fn


def _figures(name: str, counts: tuple[int, int, int]) -> str:
    tp, fp, fn = counts
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return (
        f"{name:24s} precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}"
        f"  (tp {tp} fp {fp} fn {fn})"
    )


def _confusion(
    labels: list[dict[str, object]],
    verdicts: dict[str, Verdict],
    articles: dict[str, dict[str, str]],
) -> None:
    print("confusion:")
    for label in labels:
        verdict = verdicts[str(label["id"])]
        truth = label["verdict"]
        kind = (
            "borderline"
            if truth == "borderline"
            else "FP"
            if verdict.relevant and truth != "relevant"
            else "FN"
            if not verdict.relevant and truth == "relevant"
            else None
        )
        if kind:
            article = articles[str(label["id"])]
            print(
                f"  {kind:10s} {verdict.score:.2f} {label['id']} [{article['lang']}]"
                f" {article['title'][:70]!r} labels={list(verdict.labels)} want={label['ties']}"
            )


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


if __name__ == "__main__":
    main()
