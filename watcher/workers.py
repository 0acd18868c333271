"""A process pool for the pure, CPU-bound stages (extract, fingerprint, classify).

A pass is limited by the machine's cores, not by one interpreter: the event loop keeps
downloading while workers extract.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import watcher.analyse  # noqa: F401  (imported here so a forked worker starts with it)

__all__ = ["WorkerCrashed", "WorkerPool"]

T = TypeVar("T")


class WorkerPool:
    """Runs pure functions on worker processes (or inline when ``workers`` is 0).

    A worker that dies (killed for memory on a monstrous page, say) breaks the whole
    executor; the pool is rebuilt and the call fails with ``WorkerCrashed``, so one bad
    page costs one retry instead of the pass.
    """

    def __init__(self, workers: int | None = None) -> None:
        self._count = (os.cpu_count() or 1) if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None
        if self._count > 0:
            self._executor = self._start(_first_start_method())

    def _start(self, method: str) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["watcher.analyse"])
        executor = ProcessPoolExecutor(max_workers=self._count, mp_context=context)
        for _ in range(self._count):
            executor.submit(_warm)  # start the workers now, while feeds download
        return executor

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            return function(*args)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except BrokenProcessPool as exc:
            self._executor.shutdown(wait=False, cancel_futures=True)
            # Threads run by now (the event loop's executor): forking is no longer safe.
            self._executor = self._start("forkserver")
            raise WorkerCrashed(str(exc)) from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


class WorkerCrashed(Exception):
    """A worker process died while running a call."""


def _first_start_method() -> str:
    """fork when it is safe, forkserver otherwise.

    A pool made before any thread has started (watcher makes it first thing in a pass)
    may fork the parent, which has already imported trafilatura: the workers start warm
    at no cost, where a forkserver would import it all again (~0.7 s of CPU). With
    threads running, fork can deadlock a child, and macOS forbids it for other reasons.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _warm() -> None:
    """Nothing: submitted once per worker so that the processes start early."""
