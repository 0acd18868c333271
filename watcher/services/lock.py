"""One writer at a time: a pass holds an advisory lock on the corpus folder.

``watcher run`` takes it for each pass, ``watcher fetch`` for its one pass; a second
writer waits for the running pass instead of writing beside it (two writers could
give two files the same number, or SQLite's single writer could turn one away). The
lock is ``flock`` on a hidden file in the folder: the kernel releases it when its
holder dies, so a killed process never leaves it stale.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

__all__ = ["DIGEST_LOCK_NAME", "LOCK_NAME", "pass_lock"]

LOCK_NAME = ".watcher.lock"
DIGEST_LOCK_NAME = ".watcher-digest.lock"  # one digest sender at a time, beside any pass
_POLL_SECONDS = 0.2

log = logging.getLogger(__name__)


@asynccontextmanager
async def pass_lock(
    folder: Path, on_wait: Callable[[], None] | None = None, *, name: str = LOCK_NAME
) -> AsyncIterator[None]:
    """Hold the folder's pass lock (or the lock of that ``name``); wait (without
    blocking the event loop, so a signal can still stop the wait) while another
    process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waited = False
        while not _try_lock(descriptor):
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            await asyncio.sleep(_POLL_SECONDS)
        if waited:
            log.info("pass_lock_acquired", extra={"folder": str(folder)})
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
