"""A stand-in for watcher.analyse in the pool's warm-up tests: it records the warm-up,
or fails it when told to."""

from __future__ import annotations

WARMED: list[str] = []
FAIL: list[bool] = []


def warm_up() -> None:
    if FAIL:
        raise RuntimeError("the stand-in's warm-up failed")
    WARMED.append("warmed")
