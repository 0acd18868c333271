"""Dedup as watcher does it: the labelled pairs of ../shared/eval/dedup, and index scale.

    python bench/dedup.py [--shared ../shared] [--sizes 1000,10000,100000] [--skip-pipeline]

1. Text pairs (dev_pairs.jsonl), on the texts directly: a fresh store holds text A with
   its fingerprints (exact hash, paragraph hashes, LSH keys), and ``Store.find_original``
   decides whether B copies it.
2. Page pairs (page_pairs.tsv), the same way after watcher's extractor.
3. Page pairs through the real pipeline: both pages served from 127.0.0.1, each behind
   its own feed, at a path standing for its original URL (two captures of one URL share
   it); one ``watcher fetch`` pass on a fresh database; "duplicate" when the two entries
   end as one stored item.
4. Partial copies and their look-alikes (tests/partial.py builds them from the
   development articles: excerpts of 40-70 %, teasers of one or two paragraphs, with
   and without a "continue reading" line or the title; roundups of three openings, a
   statement quoted in an analysis, part 2 repeating part 1, releases sharing a
   disclaimer, a wire story with a third of its own reporting), in both orders of
   arrival: on the texts directly, then through two real ``watcher fetch`` passes in
   archive mode (the first text's source, then the second's); "duplicate" when both
   entries end on one item (an excerpt stored first points to its article).
5. Scale: the cost of one lookup with 1k, 10k and 100k items indexed (filler items'
   index keys are random, as unrelated texts' are; probes are real texts, half of them
   near-copies of indexed ones), and the index's size per item.

Prints precision and recall of "duplicate", overall and by kind, and the scale figures.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import html
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from _shared import add_shared_option, shared_folder
from _site import rss, serve
from sqlalchemy import Engine, insert, text

from watcher.config import load_config
from watcher.dedup.urls import canonical_url, file_key, url_hash
from watcher.extraction.page import Article, extract_page
from watcher.services.app import fetch_pass
from watcher.store import NewItem, Store
from watcher.store.db import open_engine
from watcher.store.models import Band, Item

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the builders in tests/
from tests.partial import Doc, articles_for_pairs, partial_pairs

_NOW = datetime(2026, 1, 1, tzinfo=UTC)
Results = dict[str, list[tuple[bool, bool]]]  # kind -> (truth, said)


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--partial-articles", type=int, default=40)
    parser.add_argument("--partial-pipeline", type=int, default=8, help="articles fetched")
    args = parser.parse_args()
    folder = shared_folder(parser, args.shared, "eval/dedup")
    pairs = [json.loads(line) for line in (folder / "dev_pairs.jsonl").read_text().splitlines()]
    rows = [row.split("\t") for row in (folder / "page_pairs.tsv").read_text().splitlines()[1:]]

    texts: Results = defaultdict(list)
    for pair in pairs:
        texts[pair["kind"]].append((pair["duplicate"], _copies(pair["a"], pair["b"], None, None)))
    _report("text pairs, texts directly", texts)

    pages: Results = defaultdict(list)
    for _pair, kind, duplicate, file_a, file_b, url_a, url_b, *_note in rows:
        sides = ((file_a, url_a), (file_b, url_b))
        a, b = (_extract(folder / "pages" / f, url) for f, url in sides)
        said = a is not None and b is not None and _copies(a.text, b.text, url_a, url_b)
        pages[kind].append((duplicate == "true", said))
    _report("page pairs, extracted", pages)

    if not args.skip_pipeline:
        piped: Results = defaultdict(list)
        for pair, kind, duplicate, file_a, file_b, url_a, url_b, *_note in rows:
            said = _through_pipeline(folder / "pages", pair, (file_a, url_a), (file_b, url_b))
            piped[kind].append((duplicate == "true", said))
        _report("page pairs, watcher fetch", piped)

    docs = articles_for_pairs(args.shared, args.partial_articles)
    built = partial_pairs(docs)
    direct: Results = defaultdict(list)
    for pair in built:
        for first, second in ((pair.full, pair.part), (pair.part, pair.full)):
            direct[pair.kind].append((pair.duplicate, _partial_copies(first, second)))
    _report("partial pairs, texts directly (both orders)", direct)
    if not args.skip_pipeline:
        fetched: Results = defaultdict(list)
        per_article = len(built) // max(1, len(docs))  # every kind, article after article
        for pair in built[: args.partial_pipeline * per_article]:
            for first, second in ((pair.full, pair.part), (pair.part, pair.full)):
                said = _partial_through_pipeline(first, second)
                fetched[pair.kind].append((pair.duplicate, said))
        _report("partial pairs, watcher fetch (both orders)", fetched)

    for size in (int(s) for s in args.sizes.split(",")):
        _scale(size, list(dict.fromkeys(p["a"] for p in pairs)))


def _copies(a: str, b: str, url_a: str | None, url_b: str | None) -> bool:
    store = Store(open_engine("sqlite://"))
    try:
        url = canonical_url(url_a) if url_a else "https://pair.example/a"
        store.add_item(_item(store, url, a))
        urls = [url_hash(canonical_url(url_b))] if url_b else []
        return store.find_original(urls, store.dedup.fingerprint(b)) is not None
    finally:
        store.close()


def _partial_copies(first: Doc, second: Doc) -> bool:
    store = Store(open_engine("sqlite://"))
    try:
        store.add_item(_item(store, "https://pair.example/a", first.text, first.title))
        fingerprint = store.dedup.fingerprint(second.text)
        passage = store.dedup.passage(second.text, second.title)
        return store.find_match([], fingerprint, passage) is not None
    finally:
        store.close()


def _partial_through_pipeline(first: Doc, second: Doc) -> bool:
    def page(doc: Doc) -> bytes:
        body = "".join(f"<p>{html.escape(line)}</p>" for line in doc.text.splitlines())
        title = html.escape(doc.title)
        return (
            f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>"
        ).encode()

    def build(base: str) -> dict[str, bytes]:
        return {
            "/p/first.html": page(first),
            "/p/second.html": page(second),
            "/a.xml": rss([("first", base + "/p/first.html")]),
            "/b.xml": rss([("second", base + "/p/second.html")]),
        }

    return _one_item(_fetch_a_and_b(build, one_pass_each=True))


def _item(store: Store, url: str, body: str, title: str | None = None) -> NewItem:
    fingerprint = store.dedup.fingerprint(body)
    return NewItem(
        key=file_key(url),
        url=url,
        aliases=(url,),
        title=title,
        text=body,
        text_hash=fingerprint.text_hash,
        paragraph_hashes=fingerprint.paragraphs,
        bands=fingerprint.bands,
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


def _page(path: Path) -> bytes:
    body = path.read_bytes()
    # Stored compressed; a server would send them with Content-Encoding.
    return gzip.decompress(body) if path.suffix == ".gz" else body


def _extract(path: Path, url: str) -> Article | None:
    result = extract_page(_page(path), None, url or "https://pair.example/", None)
    return result if isinstance(result, Article) else None


def _through_pipeline(folder: Path, pair: str, a: tuple[str, str], b: tuple[str, str]) -> bool:
    def local_path(side: str, url: str) -> str:
        # One canonical URL, one local path: a second capture of it is the same link.
        name = file_key(canonical_url(url)) if url else f"{pair}_{side}"
        return f"/p/{name}.html"

    paths = {side: local_path(side, url) for side, (_file, url) in (("a", a), ("b", b))}

    def build(base: str) -> dict[str, bytes]:
        files = {paths["b"]: _page(folder / b[0]), paths["a"]: _page(folder / a[0])}
        for side in ("a", "b"):
            files[f"/{side}.xml"] = rss([(f"{pair}{side}", base + paths[side])])
        return files

    return _one_item(_fetch_a_and_b(build, one_pass_each=False))


def _fetch_a_and_b(
    build: Callable[[str], dict[str, bytes]], *, one_pass_each: bool
) -> list[int | None]:
    """Serve ``build``'s files (feeds /a.xml and /b.xml), fetch sources A and B in
    archive mode on a fresh database, in one pass or one pass each (A first); the items
    the entries settled on, in entry order (None for an entry not done)."""
    with serve(build) as base, tempfile.TemporaryDirectory() as root:
        config_path = Path(root) / "watcher.toml"
        config_path.write_text(
            f'[storage]\ndatabase_url = "sqlite:///{root}/w.db"\ncorpus_dir = "{root}/corpus"\n'
            "file_all = true\n[http]\nallowed_networks = ['127.0.0.0/8']\nper_host_delay = 0\n"
            f'[[sources]]\nname = "A"\nurl = "{base}/a.xml"\nmax_age_days = 0\n'
            f'[[sources]]\nname = "B"\nurl = "{base}/b.xml"\nmax_age_days = 0\n',
            encoding="utf-8",
        )
        config = load_config(config_path, environ={})
        passes = [[source] for source in config.sources] if one_pass_each else [config.sources]
        for sources in passes:
            asyncio.run(fetch_pass(config, sources, workers=0 if one_pass_each else 1))
        engine = open_engine(f"sqlite:///{root}/w.db")
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT state, item_id FROM entries ORDER BY id")
                ).all()
        finally:
            engine.dispose()
    return [item if state == "done" else None for state, item in rows]


def _one_item(items: list[int | None]) -> bool:
    """Both entries done, on one item: the two texts were taken for one article."""
    return len(items) == 2 and None not in items and items[0] == items[1]


def _scale(size: int, texts: list[str]) -> None:
    """Lookup cost and index size with ``size`` items indexed: for a new article (the
    common case: no candidate, or candidates rejected) and for a copy (its original is
    found and compared, text against text)."""
    with tempfile.TemporaryDirectory() as root:
        engine = open_engine(f"sqlite:///{root}/scale.db")
        store = Store(engine)
        _fill_items(engine, size)
        before = _database_bytes(engine)
        _fill_index(engine, size, store.dedup.bands, random.Random(size))
        index_bytes = _database_bytes(engine) - before
        originals, fresh = texts[: len(texts) // 2], texts[len(texts) // 2 :]
        for i, body in enumerate(originals):
            store.add_item(_item(store, f"https://scale.example/{i}", body))
        copies = [body + "\nThis article first appeared at another site." for body in originals]
        timings: dict[str, list[float]] = {"new": [], "copy": []}
        for kind, probes in (("new", fresh), ("copy", copies)):
            for probe in probes:
                # Fingerprinted in a worker process in a pass, beside extraction.
                fingerprint = store.dedup.fingerprint(probe)
                passage = store.dedup.passage(probe, None)
                start = time.perf_counter()
                found = store.find_original([], fingerprint, passage)
                elapsed = time.perf_counter() - start
                if (found is not None) == (kind == "copy"):  # a new text may copy an old one
                    timings[kind].append(elapsed)
        store.close()
    figures = ", ".join(
        f"{kind} {1000 * statistics.mean(t):.2f} ms (p95 {1000 * _p95(t):.2f}, n={len(t)})"
        for kind, t in timings.items()
    )
    print(
        f"index of {size:>7,} items: lookup {figures};"
        f" index {index_bytes / size:,.0f} bytes per item on disk"
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def _fill_items(engine: Engine, size: int) -> None:
    with engine.begin() as connection:
        for start in range(0, size, 5000):
            connection.execute(
                insert(Item),
                [
                    {"id": i, "key": f"{i:016x}", "text": "filler", "text_hash": f"{i}"}
                    | {"authors": [], "labels": [], "evidence": []}
                    for i in range(start + 1, min(size, start + 5000) + 1)
                ],
            )


def _fill_index(engine: Engine, size: int, bands: int, rng: random.Random) -> None:
    with engine.begin() as connection:
        for start in range(0, size, 5000):
            connection.execute(
                insert(Band),
                [
                    {"key": rng.getrandbits(64) - (1 << 63), "item_id": i}
                    for i in range(start + 1, min(size, start + 5000) + 1)
                    for _ in range(bands)
                ],
            )


def _database_bytes(engine: Engine) -> int:
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        free = connection.execute(text("PRAGMA freelist_count")).scalar_one()
        page_size = connection.execute(text("PRAGMA page_size")).scalar_one()
    return int((pages - free) * page_size)


def _report(title: str, results: Results) -> None:
    everything = [p for ps in results.values() for p in ps]
    print(_figures(title, everything))
    for kind, ps in sorted(results.items()):
        said = sum(s for _t, s in ps)
        truth = "duplicates" if ps[0][0] else "different"
        print(f"  {kind:34s} n={len(ps):3d} ({truth}): said duplicate {said}")


def _figures(name: str, pairs: list[tuple[bool, bool]]) -> str:
    tp = sum(t and s for t, s in pairs)
    fp = sum(s and not t for t, s in pairs)
    fn = sum(t and not s for t, s in pairs)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return f"{name:30s} precision {precision:.3f} recall {recall:.3f} (tp {tp} fp {fp} fn {fn})"


if __name__ == "__main__":
    main()
