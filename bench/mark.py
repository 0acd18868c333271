"""What an analyst waits for at each `watcher items mark`, with many marks made already.

    python bench/mark.py [--shared ../shared] [--marks 89] [--times 5]

The 661 labelled articles of ``../shared/eval/relevance`` are served from 127.0.0.1 as
pages behind one feed and stored by one `watcher fetch` pass into a new SQLite database;
``--marks`` of them are then marked from their labels (verdict and ties, recorded as
`items mark` records them, without a refit each). Then `watcher items mark` is run as a
user runs it, ``--times`` times on unmarked articles, each a new process: the first
refits with every mark read and embedded and rescores the 300 newest articles
embedding every unsure one; the later ones find those embeddings kept in the database.
Prints the wall time of each, and of `watcher items list` beside them. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _shared import add_shared_option, shared_folder
from _site import rss, serve

from watcher.config import load_config
from watcher.services.app import fetch_pass, open_store


def _page(article: dict[str, Any]) -> bytes:
    title = html.escape(article["title"] or "")
    body = "".join(f"<p>{html.escape(p)}</p>" for p in article["text"].split("\n") if p.strip())
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}"
        "</article></body></html>"
    ).encode()


def _config(folder: Path, base: str) -> Path:
    path = folder / "watcher.toml"
    path.write_text(
        f'[storage]\ndatabase_url = "sqlite:///{folder}/w.db"\ncorpus_dir = "{folder}/corpus"\n'
        "[http]\nallowed_networks = ['127.0.0.0/8']\nper_host_delay = 0\n"
        f'[[sources]]\nname = "bench"\nurl = "{base}/feed.xml"\nmax_age_days = 0\n',
        encoding="utf-8",
    )
    return path


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--marks", type=int, default=89, help="marks made before timing")
    parser.add_argument("--times", type=int, default=5, help="`items mark` runs timed")
    args = parser.parse_args()
    folder = shared_folder(parser, args.shared, "eval/relevance")
    articles = [json.loads(line) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
    labels = {
        label["id"]: label
        for label in map(json.loads, (folder / "dev_labels.jsonl").open(encoding="utf-8"))
        if label["verdict"] != "borderline"
    }

    def site(base: str) -> dict[str, bytes]:
        files = {f"/p/{n}.html": _page(article) for n, article in enumerate(articles)}
        files["/feed.xml"] = rss([(str(n), f"{base}/p/{n}.html") for n in range(len(articles))])
        return files

    with tempfile.TemporaryDirectory() as scratch, serve(site) as base:
        config = load_config(_config(Path(scratch), base), environ={})
        asyncio.run(fetch_pass(config, config.sources))
        store = open_store(config)
        marked, unmarked = 0, []
        for n, article in enumerate(articles):
            item = store.find_item(f"{base}/p/{n}.html")
            if item is None:
                continue
            label = labels.get(article["id"])
            if label is None or marked >= args.marks:
                unmarked.append(item.id)
                continue
            ties = label["ties"] if label["verdict"] == "relevant" else []
            store.add_mark(item.id, label["verdict"], ties, datetime.now(UTC))
            marked += 1
        stored = len(store.stored_items())
        store.close()

        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        env["WATCHER_CONFIG"] = str(Path(scratch) / "watcher.toml")
        watcher = [sys.executable, "-m", "watcher"]
        print(f"{stored} articles stored, {marked} marked")
        runs = []
        for n, item_id in enumerate(unmarked[: args.times]):
            verdict = "relevant" if n % 2 else "irrelevant"
            seconds = _timed([*watcher, "items", "mark", str(item_id), verdict], env)
            runs.append(seconds)
            print(f"  items mark #{marked + n + 1:<4d} {seconds:6.2f} s")
        listing = min(_timed([*watcher, "items", "list"], env) for _ in range(3))
    print(f"items mark: first {runs[0]:.2f} s, then median {statistics.median(runs[1:]):.2f} s")
    print(f"items list: {listing:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
