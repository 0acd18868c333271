"""Extraction quality on the 181 pages of the extraction benchmark, pinned at a floor."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

from tests.conftest import read_page, shared_path
from watcher.extraction.page import Article, extract_page

# Mean token F1 of the text watcher files, 0.9648 when this floor was set (bench/fetch_pass.py
# gives the same figure through a whole pass). A speed-up that loses text fails here.
F1_FLOOR = 0.96

_TOKEN = re.compile(r"\w+")


def token_f1(truth: str, prediction: str) -> float:
    expected, found = Counter(_TOKEN.findall(truth)), Counter(_TOKEN.findall(prediction))
    shared = sum((expected & found).values())
    if shared == 0:
        return 0.0 if (expected or found) else 1.0
    precision, recall = shared / sum(found.values()), shared / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def test_token_f1_counts_repeats_and_misses() -> None:
    assert token_f1("a b b c", "a b b c") == 1.0
    assert token_f1("a b", "c d") == 0.0
    assert round(token_f1("a b b c", "a b"), 4) == round(2 * 1.0 * 0.5 / 1.5, 4)


def test_the_benchmark_pages_extract_above_the_floor() -> None:
    folder = shared_path("pages", "extraction-benchmark")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    scores = []
    for key, expected in truth.items():
        body = read_page(folder / "html" / f"{key}.html.gz")
        article = extract_page(body, "text/html", f"https://bench.example.org/{key}", None, None)
        text = article.text if isinstance(article, Article) else ""
        scores.append(token_f1(expected["articleBody"], text))
    assert len(scores) == 181
    assert statistics.mean(scores) >= F1_FLOOR, statistics.mean(scores)
