"""Dedup as watcher does it, on the labelled pairs in ../shared/eval/dedup.

    python bench/dedup.py [--shared ../shared]

Each pair goes through the production path: a fresh in-memory store holds article A
(its exact-text hash and paragraph fingerprints, as a pass stores them), and
``Store.find_original`` decides whether B copies it. Text pairs (dev_pairs.jsonl) are
compared as texts; real page pairs (page_pairs.tsv) are first extracted by watcher's
extractor, and also compared by canonical URL. Prints precision and recall of
"duplicate", overall and by kind. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from watcher.db import open_engine
from watcher.dedup import canonical_url, file_key, paragraph_hashes, text_hash, url_hash
from watcher.extract import Article, extract_page
from watcher.store import NewItem, Store

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    args = parser.parse_args()
    folder = args.shared / "eval" / "dedup"
    results: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # kind -> (truth, said)
    for line in (folder / "dev_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        said = _copies(pair["a"], pair["b"], None, None)
        results[f"text:{pair['kind']}"].append((pair["duplicate"], said))
    for row in (folder / "page_pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        _pair, kind, duplicate, file_a, file_b, url_a, url_b, *_note = row.split("\t")
        a, b = (
            _extract(folder / "pages" / name, url)
            for name, url in ((file_a, url_a), (file_b, url_b))
        )
        said = (
            a is not None
            and b is not None
            and _copies(a.text, b.text, url_a or None, url_b or None)
        )
        results[f"page:{kind}"].append((duplicate == "true", bool(said)))
    _report(results)


def _copies(a: str, b: str, url_a: str | None, url_b: str | None) -> bool:
    store = Store(open_engine("sqlite://"))
    try:
        url = canonical_url(url_a) if url_a else "https://pair.example/a"
        store.add_item(
            NewItem(
                key=file_key(url),
                url=url,
                aliases=(url,),
                title=None,
                text=a,
                text_hash=text_hash(a),
                paragraph_hashes=tuple(paragraph_hashes(a)),
                authors=(),
                published=None,
                fetched=_NOW,
                language=None,
                source_name="a",
                relevant=True,
                score=1.0,
                labels=(),
                evidence=(),
            )
        )
        urls = [url_hash(canonical_url(url_b))] if url_b else []
        return store.find_original(urls, text_hash(b), paragraph_hashes(b)) is not None
    finally:
        store.close()


def _extract(path: Path, url: str) -> Article | None:
    result = extract_page(path.read_bytes(), None, url or "https://pair.example/", None)
    return result if isinstance(result, Article) else None


def _report(results: dict[str, list[tuple[bool, bool]]]) -> None:
    for group in ("text", "page"):
        pairs = [p for kind, ps in results.items() if kind.startswith(group) for p in ps]
        print(_figures(f"{group} pairs (all)", pairs))
        for kind, ps in sorted(results.items()):
            if kind.startswith(group):
                said = sum(s for _t, s in ps)
                truth = "duplicates" if ps[0][0] else "different"
                print(
                    f"  {kind.split(':', 1)[1]:24s} n={len(ps):3d} ({truth}): said duplicate {said}"
                )


def _figures(name: str, pairs: list[tuple[bool, bool]]) -> str:
    tp = sum(t and s for t, s in pairs)
    fp = sum(s and not t for t, s in pairs)
    fn = sum(t and not s for t, s in pairs)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return f"{name:24s} precision {precision:.3f} recall {recall:.3f} (tp {tp} fp {fp} fn {fn})"


if __name__ == "__main__":
    main()
