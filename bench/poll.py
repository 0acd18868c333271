"""Polling many feeds: a first poll, a second poll with nothing new, and memory.

    python bench/poll.py [--shared ../shared] [--feeds 1000] [--latency 0.2]
                         [--memory-sources 500] [--memory-passes 10]

1. ``--feeds`` feeds (the real news feeds of ../shared/feeds/news, about 64 KiB and 40
   entries each, repeated under distinct URLs) served from 127.0.0.1 by a separate
   process that adds ``--latency`` seconds to every answer and honours ETag /
   If-None-Match, on 200 loopback addresses (feeds live on many hosts).
   ``per_host_delay = 0``. The entries are older than the sources'
   ``max_age_days``, so a first poll records them without downloading a page: feeds only.
   - first poll: one ``watcher fetch`` pass, timed from start-up to the manifest written;
   - second poll: the same again, with nothing new: its time, and the requests the
     server saw (the goal: one conditional GET per feed, no page).
2. Memory: the daemon (``watcher.services.daemon.Daemon``, in this process, its clock moved two
   days per pass so that every source is due every pass) polls ``--memory-sources``
   feeds ``--memory-passes`` times; the resident memory of this process and its worker
   processes is summed after the last pass.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from _shared import add_shared_option, shared_folder
from _site import free_port, wait_for_port

from watcher.config import load_config
from watcher.services.app import fetch_pass
from watcher.services.daemon import Daemon

_HOSTS = 200
_SERVER = r"""
import hashlib, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

folder, port, latency, log = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
names = sys.argv[5].split(",")
bodies = [(folder / name).read_bytes() for name in names]
tags = ['"' + hashlib.sha256(b).hexdigest()[:16] + '"' for b in bodies]
lock = threading.Lock()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        time.sleep(latency)
        number = int(self.path.strip("/").split("/")[-1].split(".")[0])
        body, tag = bodies[number % len(bodies)], tags[number % len(tags)]
        conditional = self.headers.get("If-None-Match") == tag
        with lock, open(log, "a") as out:
            out.write(("304 " if conditional else "200 ") + self.path + "\n")
        if conditional:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()  # every 127.x.y.z
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    add_shared_option(parser)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--memory-sources", type=int, default=500)
    parser.add_argument("--memory-passes", type=int, default=10)
    args = parser.parse_args()
    news = shared_folder(parser, args.shared, "feeds/news")
    feeds = [path for path in sorted(news.iterdir()) if _all_dated(path)]
    sizes = [path.stat().st_size for path in feeds]
    print(
        f"feeds: {len(feeds)} real news feeds (those whose entries all carry a date),"
        f" mean {sum(sizes) / len(sizes) / 1024:.0f} KiB, served as {args.feeds} feeds"
    )
    with tempfile.TemporaryDirectory() as root:
        log = Path(root) / "requests.log"
        port = free_port()
        names = ",".join(path.name for path in feeds)
        command = [sys.executable, "-c", _SERVER, str(news), str(port), str(args.latency)]
        server = subprocess.Popen([*command, str(log), names])
        try:
            wait_for_port(port)
            base = f"http://127.0.0.1:{port}"
            config = _config(Path(root), base, args.feeds)
            first = _timed_pass(config)
            requests_first = _requests(log)
            second = _timed_pass(config)
            requests_second = _requests(log)[len(requests_first) :]
            print(
                f"first poll of {args.feeds} feeds: {first:.1f} s ({len(requests_first)} requests)"
            )
            conditional = sum(line.startswith("304") for line in requests_second)
            pages = sum("/f/" not in line for line in requests_second)
            print(
                f"second poll, nothing new: {second:.1f} s; {len(requests_second)} requests,"
                f" {conditional} answered 304, {pages} page downloads"
            )
            rss, pss = _memory(Path(root) / "memory", base, args.memory_sources, args.memory_passes)
            print(
                f"daemon memory after {args.memory_passes} passes over {args.memory_sources}"
                f" sources, summed over its processes: PSS {pss / 2**20:.0f} MiB"
                f" (RSS {rss / 2**20:.0f} MiB, counting shared pages once per process)"
            )
        finally:
            server.terminate()
            server.wait(timeout=10)


def _all_dated(path: Path) -> bool:
    """An undated entry would be fetched on a first poll: this bench polls feeds only."""
    parsed = feedparser.parse(path.read_bytes())
    return all(e.get("published_parsed") or e.get("updated_parsed") for e in parsed.entries)


def _config(root: Path, base: str, feeds: int) -> Path:
    lines = [
        "[storage]",
        f'database_url = "sqlite:///{root}/w.db"',
        f'corpus_dir = "{root}/corpus"',
        "[http]",
        "allowed_networks = ['127.0.0.0/8']",
        "per_host_delay = 0",
        "[schedule]",
        "check_seconds = 0.2",
    ]
    for number in range(feeds):
        # Feeds live on many hosts, as real ones do: 200 loopback addresses stand for
        # them, so per-host politeness applies as it would (8 at once per host here).
        host = base.replace("127.0.0.1", f"127.0.0.{1 + number % _HOSTS}")
        lines += ["[[sources]]", f'name = "feed {number}"', f'url = "{host}/f/{number}.xml"']
    path = root / f"watcher-{feeds}.toml"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _timed_pass(path: Path) -> float:
    config = load_config(path, environ={})
    start = time.perf_counter()
    asyncio.run(fetch_pass(config, config.sources))
    return time.perf_counter() - start


def _memory(root: Path, base: str, sources: int, passes: int) -> tuple[int, int]:
    """Resident bytes of a daemon process and its workers after ``passes`` passes. The
    daemon runs in a process of its own (this one holds the benchmark's leftovers)."""
    path = _config(root, base, sources)
    program = (
        "import sys; sys.path.insert(0, sys.argv[3]); import poll;"
        " poll.daemon_memory(sys.argv[1], int(sys.argv[2]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(path), str(passes), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    rss, pss = done.stdout.split()[-2:]
    return int(rss), int(pss)


def daemon_memory(path: str, passes: int) -> None:
    """Run the daemon until it has made ``passes`` passes; print its resident bytes.
    Its clock moves two days a pass, so every source is due at every pass."""
    config = load_config(Path(path), environ={})
    moments = iter(datetime.now(UTC) + timedelta(days=2 * n) for n in range(10**6))
    daemon = Daemon(Path(path), config, clock=lambda: next(moments))
    resident = (0, 0)

    async def serve() -> None:
        nonlocal resident
        task = asyncio.create_task(daemon.run())
        while daemon.passes < passes:
            await asyncio.sleep(0.2)
        resident = _resident(os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)  # the daemon's own clean stop
        await task

    asyncio.run(serve())
    print(*resident)


def _resident(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes summed over the process and its children. RSS counts the
    pages forked workers share with their parent once per process; PSS shares them out,
    so its sum is the memory the daemon really holds."""
    rss = pss = 0
    for process in [pid, *_children(pid)]:
        rss += _kilobytes(Path(f"/proc/{process}/status"), "VmRSS:") * 1024
        pss += _kilobytes(Path(f"/proc/{process}/smaps_rollup"), "Pss:") * 1024
    return rss, pss


def _kilobytes(path: Path, field: str) -> int:
    line = next(line for line in path.read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def _requests(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


if __name__ == "__main__":
    main()
