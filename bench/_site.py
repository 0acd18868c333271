"""A static site on 127.0.0.1 for the benchmarks, served by a separate process (as a
remote site would be: its work is not watcher's)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

__all__ = ["free_port", "rss", "serve", "wait_for_port"]


@contextmanager
def serve(build: Callable[[str], dict[str, bytes]]) -> Iterator[str]:
    """Serve the files ``build(base_url)`` returns (path -> body); yields the base URL.

    ``http.server`` is threaded and speaks HTTP/1.1 here, keeping connections alive as
    the sites watcher polls do."""
    with tempfile.TemporaryDirectory() as root:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        for path, body in build(base).items():
            target = Path(root) / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        command = [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1"]
        server = subprocess.Popen(
            [*command, "-p", "HTTP/1.1"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)


def rss(links: list[tuple[str, str]]) -> bytes:
    """An RSS feed of (guid, link), all published now."""
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><title>{guid}</title><link>{link}</link>"
        f"<guid>{guid}</guid><pubDate>{now}</pubDate></item>"
        for guid, link in links
    )
    channel = f"<channel><title>bench</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the page server did not start")
