"""What the manifest costs a pass as the corpus grows.

    python bench/manifest.py [--shared ../shared] [--files 20000]

One real pass files the extraction benchmark's pages into a new SQLite database; its
filed items are then copied, under new keys and numbers, until the folder holds
``--files`` files (each with a file on disk, as sync_corpus expects). Then, on that
corpus: a whole regeneration (``manifest_rows`` and the atomic write), and what a pass
that filed nothing pays (``refresh_manifest``), and the reconciliation of the folder
with the database that every process which writes starts with (``sync_corpus``: every
file read, seeds checked, flags of files gone, the manifest), best of three each. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from _shared import add_shared_option, shared_folder
from _site import serve
from fetch_pass import _site, _write_config

from watcher.config import load_config
from watcher.corpus import MANIFEST, refresh_manifest, sync_corpus, write_manifest
from watcher.services.app import fetch_pass, open_store


def _grow(folder: Path, files: int) -> None:
    """Copies of the filed items until ``files`` are filed, with a file each."""
    database = sqlite3.connect(folder / "w.db")
    columns = [row[1] for row in database.execute("PRAGMA table_info(items)")]
    rows = database.execute("SELECT * FROM items WHERE file IS NOT NULL").fetchall()
    top_id, top_number = database.execute("SELECT max(id), max(file_number) FROM items").fetchone()
    added = []
    for n in range(1, files - len(rows) + 1):
        row = list(rows[n % len(rows)])
        key, number = f"{n:016x}", top_number + n
        name = f"{number:05d}_{key}.txt"
        values = {"id": top_id + n, "key": key, "file_number": number, "file": name}
        for column, value in values.items():
            row[columns.index(column)] = value
        (folder / "corpus" / name).write_text("Title\nText\n", encoding="utf-8")
        added.append(row)
    marks = ",".join("?" * len(columns))
    database.executemany(f"INSERT INTO items VALUES ({marks})", added)
    database.commit()
    database.close()


def _best(run: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--files", type=int, default=20_000)
    args = parser.parse_args()
    pages_folder = shared_folder(parser, args.shared, "pages/extraction-benchmark")
    keys = json.loads((pages_folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {
        k: gzip.decompress((pages_folder / "html" / f"{k}.html.gz").read_bytes()) for k in keys
    }
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with serve(_site(pages)) as base:
            config = load_config(_write_config(name, base), environ={})
            asyncio.run(fetch_pass(config, config.sources))
        _grow(folder, args.files)
        store = open_store(config)  # reconciles the folder and writes the manifest
        corpus = config.storage.corpus_dir
        try:
            whole = _best(lambda: write_manifest(corpus, store.manifest_rows()))
            quiet = _best(lambda: refresh_manifest(store, corpus, changed=False))
            start_up = _best(lambda: sync_corpus(store, corpus, datetime.now(UTC)))
            size = (corpus / MANIFEST).stat().st_size
            print(f"files: {len(store.manifest_rows())}; manifest {size / 1e6:.1f} MB")
            print(f"whole regeneration          : {whole:6.3f} s")
            print(f"a pass that filed nothing   : {quiet:6.3f} s")
            print(f"start-up reconciliation     : {start_up:6.3f} s")
        finally:
            store.close()


if __name__ == "__main__":
    main()
