"""Scaled-out throughput: ``watcher worker`` processes on the PostgreSQL queue, against
the in-process daemon's pass, over the same 2,000 article pages.

    python bench/scale.py [--shared ../shared] [--pages 2000] [--feeds 20]
                          [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The pages are made from the paragraphs of the labelled articles in
``../shared/eval/relevance`` (each page 6-12 of them, drawn at random with a fixed
seed, in the usual page furniture): 2,000 distinct texts, about a third of them on the
beat. They are served, with ``--feeds`` RSS feeds listing them, by a separate process on
as many loopback hosts as feeds; ``per_host_delay = 0``, robots.txt off.

1. In-process: one ``watcher fetch`` pass (the daemon's pass) with 1 and 2 analysis
   processes: articles/s, from start-up to the manifest written.
2. Queue: ``watcher scheduler`` and 1 or 2 ``watcher worker`` processes (analysis in
   the worker itself, ``--processes 0``, 16 jobs at once): articles/s from the
   scheduler's start to every entry settled and every file written; and where the CPU
   went (seconds used by the workers, the scheduler, PostgreSQL and the page server).
3. The queue's own cost per job: 2,000 entry jobs for entries already settled (a worker
   takes each, finds nothing to do, acknowledges it), run by one worker; the time
   includes the worker's start (about 2 s).
4. The step workers take turns at: checking an article against the stored ones and
   storing it, under advisory locks on the keys it can be found by (URLs, text,
   paragraphs, LSH keys), timed 300 times. Two articles wait for each other only when
   they share a key; were it one lock for all, 1/median would cap the deployment.

Each run uses a new database. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from _shared import add_shared_option, shared_folder
from _site import free_port, rss, wait_for_port
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from watcher.config import load_config
from watcher.dedup.neardup import NearDupRule
from watcher.scale.jobs import defer, ensure_queue_schema, entry_job
from watcher.services.app import fetch_pass
from watcher.store import NewEntry, NewItem, Store
from watcher.store.db import open_engine

_SERVER = r"""
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from functools import partial

class Quiet(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default 5 resets connections under a pass's burst
    daemon_threads = True

handler = partial(Quiet, directory=sys.argv[1])
Server(("0.0.0.0", int(sys.argv[2])), handler).serve_forever()
"""
_WORKER_CONCURRENCY = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_shared_option(parser)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "WATCHER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--in-process-only", action="store_true", help="the in-process passes, not the queue"
    )
    args = parser.parse_args()
    folder = shared_folder(parser, args.shared, "eval/relevance")
    pages = _pages(folder / "articles.jsonl", args.pages)
    print(f"{len(pages)} pages, mean {sum(map(len, pages.values())) // len(pages)} bytes")
    with tempfile.TemporaryDirectory() as root, _server(Path(root) / "site") as port:
        feeds = _write_site(Path(root) / "site", pages, port, args.feeds)
        for processes in (1, 2):
            with _database(args.postgres) as url:
                seconds, spent = _in_process(Path(root), url, feeds, processes)
                print(
                    f"in-process pass, {processes} analysis process(es): {seconds:.1f} s,"
                    f" {len(pages) / seconds:.1f} articles/s; seconds: "
                    + ", ".join(f"{stage} {value:.1f}" for stage, value in spent.items())
                )
        if args.in_process_only:
            return
        for workers in (1, 2):
            with _database(args.postgres) as url:
                seconds, cpu = _queue(Path(root), url, feeds, workers, port)
                print(
                    f"queue, {workers} worker process(es): {seconds:.1f} s,"
                    f" {len(pages) / seconds:.1f} articles/s; CPU seconds: "
                    + ", ".join(f"{name} {value:.1f}" for name, value in cpu.items())
                )
        with _database(args.postgres) as url:
            per_job = _empty_jobs(Path(root), url, feeds, args.pages)
            print(f"queue overhead: {per_job * 1000:.2f} ms per job (one worker, no work)")
        with _database(args.postgres) as url:
            held = _settle_time(url, pages)
            print(
                f"settle step under its key locks: median {held[len(held) // 2] * 1000:.2f} ms,"
                f" p90 {held[int(len(held) * 0.9)] * 1000:.2f} ms"
                f" (one lock for all would cap at {1 / held[len(held) // 2]:.0f} articles/s)"
            )


def _pages(articles: Path, count: int) -> dict[str, str]:
    """``count`` distinct article pages from the labelled articles' paragraphs."""
    rng = random.Random(20261122)
    texts = [json.loads(line) for line in articles.read_text(encoding="utf-8").splitlines()]
    pool = [
        (row["title"], paragraph)
        for row in texts
        for paragraph in row["text"].split("\n")
        if len(paragraph) > 80
    ]
    pages = {}
    for number in range(count):
        chosen = rng.sample(pool, rng.randint(6, 12))
        title = f"{chosen[0][0]} ({number})"
        body = "".join(f"<p>{html.escape(p)}</p>" for _t, p in chosen)
        pages[f"a{number:05d}"] = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            "</title></head><body><header><nav><a href='/'>Home</a></nav></header>"
            f"<main><article><h1>{html.escape(title)}</h1>{body}</article></main>"
            "<footer><p>Copyright Example Institute.</p></footer></body></html>"
        )
    return pages


def _write_site(folder: Path, pages: dict[str, str], port: int, feeds: int) -> list[str]:
    """The pages and the feeds listing them, feed n on host 127.0.0.(n+1)."""
    keys = sorted(pages)
    urls = []
    for number in range(feeds):
        base = f"http://127.0.0.{number + 1}:{port}"
        mine = keys[number::feeds]
        for key in mine:
            (folder / f"{key}.html").write_text(pages[key], encoding="utf-8")
        (folder / f"feed{number}.xml").write_bytes(
            rss([(key, f"{base}/{key}.html") for key in mine])
        )
        urls.append(f"{base}/feed{number}.xml")
    return urls


@contextmanager
def _server(folder: Path) -> Iterator[int]:
    folder.mkdir(parents=True)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", _SERVER, str(folder), str(port)])
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def _database(base: str) -> Iterator[str]:
    name = f"watcher_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _config(root: Path, url: str, feeds: list[str], *, corpus: str) -> Path:
    lines = [
        "[storage]",
        f'database_url = "{url}"',
        f'corpus_dir = "{root / corpus}"',
        "[http]",
        "allowed_networks = ['127.0.0.0/8']",
        "per_host_delay = 0",
        "respect_robots = false",
        "[schedule]",
        "check_seconds = 0.5",
        "[queue]",
        f"concurrency = {_WORKER_CONCURRENCY}",
        "processes = 0",
    ]
    for number, feed in enumerate(feeds):
        lines += ["[[sources]]", f'name = "Feed {number}"', f'url = "{feed}"']
    path = root / f"{corpus}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _in_process(
    root: Path, url: str, feeds: list[str], processes: int
) -> tuple[float, dict[str, float]]:
    """The pass's wall time; its stage times and the CPU seconds of this process, of
    its analysis workers and of PostgreSQL (the page server's are not counted)."""
    config = load_config(_config(root, url, feeds, corpus=f"inproc{processes}"))
    postmaster = _postmaster(url)
    database = _postgres_cpu(postmaster)
    own, children = _rusage(resource.RUSAGE_SELF), _rusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    report = asyncio.run(fetch_pass(config, config.sources, workers=processes))
    elapsed = time.perf_counter() - started
    spent = {
        **report.times,
        "cpu: this process": _rusage(resource.RUSAGE_SELF) - own,
        "cpu: workers": _rusage(resource.RUSAGE_CHILDREN) - children,
        "cpu: postgresql": _postgres_cpu(postmaster) - database,
    }
    return elapsed, spent


def _postmaster(url: str) -> int:
    """The PostgreSQL server's main process (the parent of a backend)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    engine.dispose()
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the server and its live backends, and of the backends that ended
    (their time is added to the postmaster's children when it reaps them)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    used = sum(int(value) for value in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == postmaster:
            used += int(stat[11]) + int(stat[12])
    return used / tick


def _rusage(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _queue(
    root: Path, url: str, feeds: list[str], workers: int, port: int
) -> tuple[float, dict[str, float]]:
    path = _config(root, url, feeds, corpus=f"queue{workers}")
    engine = create_engine(url)
    before = _cpu_by_group(port)
    started = time.perf_counter()
    with _role(path, "scheduler") as scheduler:
        roles = [_role(path, "worker") for _ in range(workers)]
        processes = [role.__enter__() for role in roles]
        try:
            _wait_settled(engine, len(feeds))
            elapsed = time.perf_counter() - started
            cpu = _cpu_by_group(port, scheduler.pid, [p.pid for p in processes])
        finally:
            for role in roles:
                role.__exit__(None, None, None)
    engine.dispose()
    used = {name: cpu[name] - before.get(name, 0.0) for name in cpu}
    return elapsed, used


@contextmanager
def _role(config: Path, role: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", role],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _wait_settled(engine: object, feeds: int) -> None:
    query = text(
        "SELECT (SELECT count(*) FROM sources WHERE last_success_at IS NOT NULL),"
        " (SELECT count(*) FROM entries WHERE state = 'pending'"
        "   OR (state = 'failed' AND NOT permanent AND next_try <= now())),"
        " (SELECT count(*) FROM items WHERE file IS NOT NULL AND filed_at IS NULL)"
    )
    while True:
        time.sleep(0.2)
        try:
            with engine.connect() as connection:  # type: ignore[attr-defined]
                polled, waiting, unwritten = connection.execute(query).one()
        except Exception:
            continue  # the tables are not made yet
        if polled == feeds and waiting == 0 and unwritten == 0:
            return


def _empty_jobs(root: Path, url: str, feeds: list[str], count: int) -> float:
    """Seconds per job for jobs that find their entry settled: the queue alone."""
    path = _config(root, url, feeds[:0], corpus="empty")
    store = Store(open_engine(url))
    ensure_queue_schema(store.engine)
    source = store.sync_manual_source("http://x.example/feed", "x")
    now = datetime.now(UTC)
    settled = [
        NewEntry(
            f"k{n}", None, f"http://x.example/{n}", f"{n:064x}", None, None, None, now, "too_old"
        )
        for n in range(count)
    ]
    ids = store.add_entries(source.id, settled).values()
    with store.engine.begin() as connection:
        defer(connection, [entry_job(entry_id) for entry_id in ids])
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE procrastinate_jobs"))  # as the scheduler would
    started = time.perf_counter()
    with _role(path, "worker"):
        while True:
            with store.engine.connect() as connection:
                left = connection.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar()
            if left == 0:
                break
            time.sleep(0.1)
    store.close()
    return (time.perf_counter() - started) / count


def _settle_time(url: str, pages: dict[str, str]) -> list[float]:
    """The serialised step as a worker runs it: the advisory lock, the lookup of an
    original (URL, text hash, near-duplicate candidates), the insert."""
    store = Store(open_engine(url))
    rule = NearDupRule()
    hold = store.settle_lock()
    assert hold is not None  # PostgreSQL
    times = []
    for number, page in enumerate(list(pages.values())[:300]):
        body = page.split("<article>", 1)[1]
        fingerprint = rule.fingerprint(body)
        key = f"{number:016x}"
        item = NewItem(
            key=key,
            url=f"http://x.example/{key}",
            aliases=(f"http://x.example/{key}",),
            title=None,
            text=body,
            text_hash=fingerprint.text_hash,
            paragraph_hashes=fingerprint.paragraphs,
            authors=(),
            published=None,
            fetched=datetime.now(UTC),
            language="en",
            source_name="bench",
            relevant=False,
            score=0.0,
            labels=(),
            evidence=(),
            bands=fingerprint.bands,
        )
        started = time.perf_counter()
        with hold(fingerprint.lock_keys((key,))) as held, store.one_transaction(held):
            store.find_original([key], fingerprint)
            store.add_item(item)
        times.append(time.perf_counter() - started)
    store.close()
    return sorted(times)


def _cpu_by_group(
    port: int, scheduler: int = 0, workers: list[int] | None = None
) -> dict[str, float]:
    """CPU seconds so far of the workers (with their children), the scheduler,
    PostgreSQL's processes and the page server."""
    groups = {"workers": 0.0, "scheduler": 0.0, "postgresql": 0.0, "page server": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry.name)
        if workers and pid in workers:
            groups["workers"] += used
        elif pid == scheduler:
            groups["scheduler"] += used
        elif "postgres" in stat.split(")", 1)[0]:
            groups["postgresql"] += used
        elif f"{port}" in command and "-c" in command:
            groups["page server"] += used
    return groups


if __name__ == "__main__":
    main()
