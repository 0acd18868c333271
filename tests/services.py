"""Helpers for tests that run watcher's services as real processes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable

from sqlalchemy import create_engine, make_url, text

__all__ = ["allow_connections", "free_port", "stop", "wait_for"]


def wait_for(condition: Callable[[], bool], what: str, deadline: float) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline`` seconds
    (a deadline that only catches a hang)."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:g} s: {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[str], deadline: float) -> tuple[int, list[dict[str, object]]]:
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
