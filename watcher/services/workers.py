"""A process pool for the pure, CPU-bound stages (extract, fingerprint, classify).

A pass is limited by the machine's cores, not by one interpreter: the event loop keeps
downloading while workers extract.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import logging
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["PRELOAD", "Shared", "WorkerCrashed", "WorkerPool"]

log = logging.getLogger(__name__)

# What a forkserver imports once, before forking each worker: the analysis stages (trafilatura,
# lxml, the classifier). A name that does not import is skipped silently by
# multiprocessing, so a test holds it to a real module.
PRELOAD = ("watcher.analyse",)

T = TypeVar("T")
_LOADED: dict[str, Any] = {}  # in each worker process: shared values by digest
_NICENESS = 10  # a worker's priority below the coordinator's (see _yield_to_coordinator)
_KEEP = 4  # shared values a worker keeps loaded (one per pass is the usual case)


@dataclass(frozen=True, slots=True)
class Shared(Generic[T]):
    """A value handed to every call of a pass (the classifier, with the user's marked
    examples), written once to a file instead of being pickled into every call: with a
    hundred marks that is 0.8 MB and 9 ms of the event loop's time per page."""

    path: str
    digest: str

    def get(self) -> T:
        value = _LOADED.get(self.digest)
        if value is None:
            value = pickle.loads(Path(self.path).read_bytes())
            if len(_LOADED) >= _KEEP:
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[self.digest] = value
        return value  # type: ignore[no-any-return]


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
        self._files = tempfile.TemporaryDirectory(prefix="watcher-shared-")

    def share(self, value: T) -> Shared[T]:
        """Make ``value`` available to the workers by reference (see ``Shared``)."""
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(data).hexdigest()
        path = Path(self._files.name) / digest
        if not path.exists():
            path.write_bytes(data)
        return Shared(str(path), digest)

    def _start(self, method: str) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(list(PRELOAD))
        executor = ProcessPoolExecutor(
            max_workers=self._count, mp_context=context, initializer=_yield_to_coordinator
        )
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
        self._files.cleanup()


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


def _yield_to_coordinator() -> None:
    """Run the worker at a lower priority than the process that feeds it: that one
    process fetches, settles and files every article, so when it waits for a core the
    whole pass waits, while a worker that waits only lets its queue grow."""
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)


def _warm() -> None:
    """Submitted once per worker so that the processes start early, and run the
    ``warm_up`` of each PRELOAD module that has one. Nobody waits for its result, so a
    warm-up that fails is logged here: the worker then meets its first page cold, and
    the same fault will show on that page."""
    for name in PRELOAD:
        warm = getattr(importlib.import_module(name), "warm_up", None)
        if warm is None:
            continue
        try:
            warm()
        except Exception as exc:  # a warm-up must never take the worker down
            log.warning("worker_warm_up_failed", extra={"stage": name, "error": repr(exc)})
