"""Helpers for tests that run watcher's services as real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

__all__ = [
    "DEADLINE",
    "allow_connections",
    "aware",
    "free_port",
    "get_text",
    "new_files",
    "running_daemon",
    "stop",
    "wait_for",
]

DEADLINE = 90.0  # catches a hang; each wait here takes seconds


@contextlib.contextmanager
def running_daemon(
    config: Path, *, killed: bool = False, log: Path | None = None
) -> Iterator[subprocess.Popen[str]]:
    """``watcher run`` in the background. ``killed``: in a session of its own (so the
    test can kill it with its workers) and with its output discarded. ``log``: its
    log goes to that file (a test that makes it log many tracebacks: a pipe nobody
    reads until the end fills, and the daemon then waits to write)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    output = subprocess.DEVNULL if killed else subprocess.PIPE
    with contextlib.ExitStack() as files:
        errors = output if log is None else files.enter_context(log.open("w", encoding="utf-8"))
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run"],
            stdout=output,
            stderr=errors,
            text=True,
            env=env,
            start_new_session=killed,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=DEADLINE)


def get_text(url: str) -> str | None:
    """The body at ``url``, or None while nothing answers there."""
    try:
        return httpx.get(url, timeout=5).text
    except httpx.TransportError:
        return None


def new_files(corpus: Path) -> list[Path]:
    """Corpus files beyond the five seeds (not a temporary file being written)."""
    return sorted(p for p in corpus.glob("[0-9][0-9][0-9]_*.txt") if int(p.name[:3]) >= 5)


def aware(value: object) -> datetime:
    """A timestamp as either database returns it, in UTC."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def wait_for(
    condition: Callable[[], bool],
    what: str,
    deadline: float = DEADLINE,
    *,
    said: Path | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline`` seconds
    (a deadline that only catches a hang), with the end of the log file ``said`` when
    a background process writes one."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            message = f"not within {deadline:g} s: {what}"
            if said is not None and said.exists():
                message += f"; the end of its log:\n{said.read_text(encoding='utf-8')[-4000:]}"
            raise AssertionError(message)
        time.sleep(0.1)


def stop(
    process: subprocess.Popen[str], deadline: float = DEADLINE
) -> tuple[int, list[dict[str, object]]]:
    """SIGTERM, as a service manager stops it: the exit code and the JSON log events."""
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=deadline)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return process.returncode, events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def allow_connections(database_url: str, allowed: bool) -> None:
    """Open or close a PostgreSQL database to new connections; closing also ends the
    ones it has (as a restart of the server does)."""
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}'))
            if not allowed:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()
