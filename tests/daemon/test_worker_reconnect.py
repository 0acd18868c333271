"""A worker whose database goes away runs again instead of ending (procrastinate's
worker ends when its query for jobs fails)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from procrastinate.exceptions import ConnectorException

from watcher.scale import worker


class _App:
    """procrastinate's App at the two methods the worker loop calls: the first run
    fails as a lost database makes it fail, the next one ends as a signal ends it."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0
        self.opened = 0

    @asynccontextmanager
    async def open_async(self) -> AsyncIterator[None]:
        self.opened += 1
        yield

    async def run_worker_async(self, **_options: Any) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise ConnectorException("Database error.") from OSError("server closed")


def test_a_lost_database_is_said_and_the_worker_runs_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(worker, "_RECONNECT_SECONDS", 0.01)
    app = _App(failures=2)

    async def run() -> int:
        rounds = 0
        while await worker._work(app, {}):  # type: ignore[arg-type]
            rounds += 1
        return rounds

    assert asyncio.run(run()) == 2
    assert (app.runs, app.opened) == (3, 3), "reconnected after each loss"
    lost = [r for r in caplog.records if r.getMessage() == "worker_database_lost"]
    assert [r.error for r in lost] == ["server closed", "server closed"]  # type: ignore[attr-defined]
