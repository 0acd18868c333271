"""Extraction quality and speed of a whole `watcher fetch` pass, against bare trafilatura.

    python bench/fetch_pass.py [--shared ../shared] [--repeat 3]

1. Bare trafilatura: ``bare_extraction(html, with_metadata=True)`` over the 181 pages of
   the extraction benchmark, one core, one process: pages/s and F1.
2. watcher: the same pages served from 127.0.0.1 behind one RSS feed, one pass in archive
   mode (``file_all = true``) into an empty corpus on a fresh SQLite database, timed from
   start-up (database, corpus scan, worker pool) to the manifest written; each filed file
   (its body, after the title line) scored against the ground truth. Then where the time
   went: the pass's own stage times (``PassReport.times``: work in this process is its
   own, waits are summed over what was in flight) and the CPU seconds of this process
   and of the analysis workers, against the wall time (two cores allow 2.0 busy).
3. ``watcher fetch`` as a user runs it (a new process: imports included), same pages,
   and how much of its time the interpreter and the imports alone take.

The three run in rounds (``--repeat``), back to back; the ratios are given for the best
run of each, and within each round (median and range), which a machine whose speed
drifts between runs disturbs less.

F1 is given two ways: over bags of word tokens, and over 4-word shingles as the
benchmark's own evaluation script does. Both are means over all 181 pages (a page that
yields nothing scores 0). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from _shared import add_shared_option, shared_folder
from _site import rss, serve
from trafilatura import bare_extraction

from watcher.config import load_config
from watcher.services.app import fetch_pass

_TOKEN = re.compile(r"\w+")


def f1(truth: str, prediction: str, n: int) -> float:
    def shingles(text: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN.findall(text)
        if len(tokens) < n:
            return Counter([tuple(tokens)]) if tokens else Counter()
        return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    a, b = shingles(truth), shingles(prediction)
    tp = sum((a & b).values())
    if tp == 0:
        return 0.0 if (a or b) else 1.0
    precision, recall = tp / sum(b.values()), tp / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def _site(pages: dict[str, bytes]) -> Callable[[str], dict[str, bytes]]:
    def build(base: str) -> dict[str, bytes]:
        files = {f"/p/{key}.html": body for key, body in pages.items()}
        files["/feed.xml"] = rss([(key, f"{base}/p/{key}.html") for key in pages])
        return files

    return build


def bare(htmls: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    start = time.perf_counter()
    texts = {}
    for key, html in htmls.items():
        doc = bare_extraction(html, with_metadata=True)
        texts[key] = doc.text if doc is not None and doc.text else ""
    seconds = time.perf_counter() - start
    return (
        len(htmls) / seconds,
        statistics.mean(f1(truth[k], texts[k], 1) for k in htmls),
        statistics.mean(f1(truth[k], texts[k], 4) for k in htmls),
    )


def _write_config(folder: str, base: str) -> Path:
    config_path = Path(folder) / "watcher.toml"
    config_path.write_text(
        f'[storage]\ndatabase_url = "sqlite:///{folder}/w.db"\ncorpus_dir = "{folder}/corpus"\n'
        "file_all = true\n[http]\nallowed_networks = ['127.0.0.0/8']\nper_host_delay = 0\n"
        f'[[sources]]\nname = "bench"\nurl = "{base}/feed.xml"\nmax_age_days = 0\n',
        encoding="utf-8",
    )
    return config_path


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def command_pass(pages: dict[str, bytes]) -> float:
    """``watcher fetch`` in a new process, as a user types it: pages per second."""
    with serve(_site(pages)) as base, tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        env["WATCHER_CONFIG"] = str(_write_config(folder, base))
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "watcher", "fetch"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return len(pages) / (time.perf_counter() - start)


def import_seconds() -> float:
    """What a ``watcher fetch`` process spends before its pass starts: the interpreter and
    the imports of the command, the pass and the analysis stages (best of three)."""
    code = "import watcher.cli.passes, watcher.services.app, watcher.pipeline, watcher.analyse"
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        runs.append(time.perf_counter() - start)
    return min(runs)


def watcher_pass(
    pages: dict[str, bytes], truth: dict[str, str]
) -> tuple[float, float, float, int, dict[str, float]]:
    with serve(_site(pages)) as base, tempfile.TemporaryDirectory() as folder:
        config = load_config(_write_config(folder, base), environ={})
        own, workers = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        report = asyncio.run(fetch_pass(config, config.sources))
        seconds = time.perf_counter() - start
        spent = {
            **report.times,
            "cpu: this process": _cpu(resource.RUSAGE_SELF) - own,
            "cpu: workers": _cpu(resource.RUSAGE_CHILDREN) - workers,
            "wall": seconds,
        }
        corpus = Path(folder) / "corpus"
        rows = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
        filed = {
            row["url"].rsplit("/", 1)[1].removesuffix(".html"): corpus / row["file"] for row in rows
        }
        texts = {
            key: "\n".join(filed[key].read_text(encoding="utf-8").splitlines()[1:])
            if key in filed
            else ""
            for key in pages
        }
    return (
        len(pages) / seconds,
        statistics.mean(f1(truth[k], texts[k], 1) for k in pages),
        statistics.mean(f1(truth[k], texts[k], 4) for k in pages),
        len(filed),
        spent,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of all three")
    args = parser.parse_args()
    folder = shared_folder(parser, args.shared, "pages/extraction-benchmark")
    truth_file = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    truth = {key: value["articleBody"] for key, value in truth_file.items()}
    raw = {key: gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()) for key in truth}
    htmls = {key: body.decode("utf-8") for key, body in raw.items()}

    # In rounds, each round running all three back to back: on a shared machine whose
    # speed drifts by a third within minutes, a ratio within one round is the fair one.
    bare_runs, pass_runs, command_runs = [], [], []
    for _ in range(args.repeat):
        bare_runs.append(bare(htmls, truth))
        pass_runs.append(watcher_pass(raw, truth))
        command_runs.append(command_pass(raw))
    command_rate = max(command_runs)
    imports = import_seconds()
    bare_rate, bare_tok, bare_sh = max(bare_runs)
    pass_rate, pass_tok, pass_sh, filed, spent = max(pass_runs, key=lambda run: run[0])
    print(f"pages: {len(truth)}; best of {args.repeat} runs each")
    print(_line("bare trafilatura, 1 core", bare_rate, bare_tok, bare_sh))
    print(_line("watcher fetch pass", pass_rate, pass_tok, pass_sh) + f"  ({filed} filed)")
    print(
        f"{'watcher fetch (command)':25s}: {command_rate:6.1f} pages/s  (imports included:"
        f" {len(raw) / command_rate:.2f} s, of which {imports:.2f} s interpreter and imports)"
    )
    print(f"speed ratio (pass / bare): {pass_rate / bare_rate:.2f}x")
    print(f"speed ratio (command / bare): {command_rate / bare_rate:.2f}x")
    for name, runs in (("pass", [run[0] for run in pass_runs]), ("command", command_runs)):
        ratios = [rate / bare_run[0] for rate, bare_run in zip(runs, bare_runs, strict=True)]
        print(
            f"  within each round ({name} / bare): median {statistics.median(ratios):.2f}x,"
            f" {min(ratios):.2f}-{max(ratios):.2f}x"
        )
    print("where the pass's time went (seconds; waits overlap and are summed):")
    for stage, seconds in spent.items():
        print(f"  {stage:20s} {seconds:7.2f}")
    busy = (spent["cpu: this process"] + spent["cpu: workers"]) / spent["wall"]
    print(f"  cores busy on average: {busy:.2f} of {os.cpu_count()}")


def _line(name: str, rate: float, tokens: float, shingles: float) -> str:
    return f"{name:25s}: {rate:6.1f} pages/s  F1 tokens {tokens:.4f}  shingles {shingles:.4f}"


if __name__ == "__main__":
    main()
