"""The few settings a pass reads, taken from the configuration once.

The pass depends on these values, not on the whole ``Config``: a test or a queue worker
builds them directly, and a change to an unrelated configuration section cannot reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from watcher.config import Config
from watcher.dedup.neardup import NearDupRule
from watcher.sources.planning import Bounds

__all__ = ["PassSettings"]


@dataclass(frozen=True, slots=True)
class PassSettings:
    corpus: Path
    file_all: bool  # archive mode: every article gets a corpus file, relevant or not
    max_bytes: int  # the most a feed or a page may weigh
    respect_robots: bool
    near: NearDupRule
    bounds: Bounds  # the shortest and longest wait between two polls of a source

    @classmethod
    def of(cls, config: Config) -> PassSettings:
        return cls(
            corpus=Path(config.storage.corpus_dir),
            file_all=config.storage.file_all,
            max_bytes=config.http.max_bytes,
            respect_robots=config.http.respect_robots,
            near=NearDupRule.of(config.dedup),
            bounds=Bounds.of(config.schedule),
        )
