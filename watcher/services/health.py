"""The daemon's health endpoint: ``/healthz`` and ``/metrics`` (Prometheus text format).

Off unless ``[daemon] listen`` names an address. Two read-only GET paths, served on the
daemon's own event loop: a web framework would be a large dependency for them.

- ``/healthz``: 200 when the scheduler is alive and the database answers, else 503;
  a small JSON body says which, and when the last pass finished.
- ``/metrics``: counters since start (passes, polls by outcome, source errors by kind,
  articles by outcome) and the time of the last pass.
- ``/feed.atom``: the relevant articles as Atom (``?label=TIE`` for one tie), so a feed
  reader can follow the filtered stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs

from watcher.delivery.atom import ATOM_TYPE
from watcher.errors import WatcherError
from watcher.report import PassReport

__all__ = ["HealthServer", "Metrics"]

log = logging.getLogger(__name__)

_READ_LIMIT = 8192  # a request line and headers; anything longer is not for us


@dataclass
class Metrics:
    passes: int = 0
    last_pass_at: datetime | None = None
    polls: Counter[str] = field(default_factory=Counter)  # ok | failed
    source_errors: Counter[str] = field(default_factory=Counter)  # by error kind
    articles: Counter[str] = field(default_factory=Counter)  # new | relevant | filed | ...
    # Gauges read from the database when /metrics is asked (watcher.services.status), if set.
    status: Callable[[], list[str]] | None = None

    def count(self, report: PassReport, finished: datetime) -> None:
        self.passes += 1
        self.last_pass_at = finished
        for source in report.sources:
            self.polls["failed" if source.failed else "ok"] += 1
            if source.error_kind:
                self.source_errors[source.error_kind] += 1
            self.articles["new"] += source.new
            self.articles["relevant"] += source.relevant
            self.articles["filed"] += source.filed
            self.articles["duplicate"] += source.duplicates
            self.articles["failed"] += source.errors

    def exposition(self) -> str:
        lines = [
            "# HELP watcher_passes_total Passes completed since start.",
            "# TYPE watcher_passes_total counter",
            f"watcher_passes_total {self.passes}",
            "# HELP watcher_last_pass_timestamp_seconds When the last pass finished.",
            "# TYPE watcher_last_pass_timestamp_seconds gauge",
            f"watcher_last_pass_timestamp_seconds {self._last_pass_seconds()}",
        ]
        lines += _counter("watcher_polls_total", "Feed polls by outcome.", "outcome", self.polls)
        lines += _counter(
            "watcher_source_errors_total", "Failed polls by error kind.", "kind", self.source_errors
        )
        lines += _counter(
            "watcher_articles_total", "Feed entries by outcome.", "outcome", self.articles
        )
        if self.status is not None:
            try:
                lines += self.status()
            except Exception:  # the database is down: /healthz says so; counters still count
                log.exception("status_unavailable")
        return "\n".join(lines) + "\n"

    def _last_pass_seconds(self) -> float:
        return self.last_pass_at.timestamp() if self.last_pass_at else 0.0


def _counter(name: str, description: str, label: str, values: Counter[str]) -> list[str]:
    lines = [f"# HELP {name} {description}", f"# TYPE {name} counter"]
    lines += [f'{name}{{{label}="{key}"}} {value}' for key, value in sorted(values.items())]
    return lines


class HealthServer:
    """``/healthz`` and ``/metrics`` on ``host:port``."""

    def __init__(
        self,
        metrics: Metrics,
        scheduler_alive: Callable[[], bool],
        database_answers: Callable[[], bool],
        atom: Callable[[str | None], str] | None = None,
    ) -> None:
        self._atom = atom  # the Atom feed for a tie (None: all)
        self._metrics = metrics
        self._scheduler_alive = scheduler_alive
        self._database_answers = database_answers
        self._server: asyncio.Server | None = None

    async def start(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        try:
            self._server = await asyncio.start_server(self._answer, host or "127.0.0.1", int(port))
        except OSError as exc:
            raise WatcherError(
                f"daemon.listen: cannot listen on {address}: {exc.strerror or exc}"
            ) from exc
        log.info("health_listening", extra={"address": address})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, target, *_rest = head[:_READ_LIMIT].decode("latin-1").split(" ", 2)
            path, _mark, query = target.partition("?")
            if path == "/feed.atom" and method == "GET" and self._atom is not None:
                status, content_type, body = await self._feed(query)
            else:
                status, content_type, body = self._route(method, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # not a request we answer
        finally:
            writer.close()

    async def _feed(self, query: str) -> tuple[str, str, bytes]:
        """Built off the event loop: it reads the database."""
        assert self._atom is not None
        label = parse_qs(query).get("label", [None])[0]
        try:
            text = await asyncio.to_thread(self._atom, label)
        except ValueError as exc:
            return "404 Not Found", "text/plain", f"{exc}\n".encode()
        except Exception:
            log.exception("feed_failed")
            return "503 Service Unavailable", "text/plain", b"the feed cannot be read now\n"
        return "200 OK", ATOM_TYPE, text.encode()

    def _route(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        if path == "/metrics":
            body = self._metrics.exposition().encode()
            return "200 OK", "text/plain; version=0.0.4", body
        if path == "/healthz":
            alive, database = self._scheduler_alive(), self._database_answers()
            last = self._metrics.last_pass_at
            report = {
                "scheduler": "alive" if alive else "stopped",
                "database": "ok" if database else "unreachable",
                "last_pass": last.isoformat() if last else None,
                "passes": self._metrics.passes,
            }
            status = "200 OK" if alive and database else "503 Service Unavailable"
            return status, "application/json", (json.dumps(report) + "\n").encode()
        return "404 Not Found", "text/plain", b"not found\n"
