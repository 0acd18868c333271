"""Precision and recall of the relevance classifier on the labelled development half.

    python bench/relevance.py [--threshold 0.5] [--shared ../shared]

Borderline articles (the two readers disagreed) are left out of the figures; a tie that
only one reader gave (ties_optional) is not counted either way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from watcher.classify import TIES, KeywordClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[1] / ".." / "shared")
    parser.add_argument("--errors", action="store_true", help="list the misclassified ids")
    args = parser.parse_args()
    folder = args.shared / "eval" / "relevance"
    articles_text = (folder / "articles.jsonl").read_text(encoding="utf-8")
    articles = {a["id"]: a for a in map(json.loads, articles_text.splitlines())}
    labels_text = (folder / "dev_labels.jsonl").read_text(encoding="utf-8")
    labels = [json.loads(line) for line in labels_text.splitlines()]
    classifier = KeywordClassifier(args.threshold)
    tp = fp = fn = tn = 0
    tie_counts = {tie: [0, 0, 0] for tie in TIES}  # tp, fp, fn
    for label in labels:
        if label["verdict"] == "borderline":
            continue
        article = articles[label["id"]]
        verdict = classifier.classify(article["title"], article["text"], article["lang"])
        truth = label["verdict"] == "relevant"
        tp += verdict.relevant and truth
        fp += verdict.relevant and not truth
        fn += truth and not verdict.relevant
        tn += not truth and not verdict.relevant
        if args.errors and verdict.relevant != truth:
            print(
                f"  {'FP' if verdict.relevant else 'FN'} {verdict.score:.2f} {label['id']}"
                f" [{article['lang']}] {article['title'][:70]}"
            )
        for tie in TIES:
            got, want = tie in verdict.labels, tie in label["ties"]
            if tie in label.get("ties_optional", []):
                continue
            tie_counts[tie][0] += got and want
            tie_counts[tie][1] += got and not want
            tie_counts[tie][2] += want and not got
    print(f"threshold {args.threshold}: {tp + fp + fn + tn} articles (borderline excluded)")
    print(
        f"relevant: precision {_ratio(tp, tp + fp)}  recall {_ratio(tp, tp + fn)}"
        f"  (tp {tp} fp {fp} fn {fn} tn {tn})"
    )
    for tie, (t, f, n) in tie_counts.items():
        print(f"  {tie:13s} precision {_ratio(t, t + f)}  recall {_ratio(t, t + n)}")


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


if __name__ == "__main__":
    main()
