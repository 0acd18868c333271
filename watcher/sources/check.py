"""``watcher sources check``: poll sources now and say what came back; store nothing.

For a user adding or debugging a source: is the URL a feed, how many entries does it
hold, how recent is the newest, what would a pass make of it. The request goes through
the same client as every poll (caps, deadline, address checks, politeness), without
the stored validators, so the answer is the feed as it is now.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.config import HttpConfig, SourceConfig
from watcher.errors import FetchError
from watcher.fetch.http import Fetcher, Response
from watcher.services.workers import WorkerPool
from watcher.sources.reading import ACCEPT, SourceReader

__all__ = ["SourceCheck", "check_sources"]


@dataclass(frozen=True, slots=True)
class SourceCheck:
    name: str
    url: str
    error: FetchError | None = None
    title: str | None = None
    entries: int = 0
    newest: datetime | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


async def check_sources(config: HttpConfig, sources: Sequence[SourceConfig]) -> list[SourceCheck]:
    workers = WorkerPool(0)  # parsing inline: a check is a handful of sources
    try:
        async with Fetcher(config) as fetcher:
            reader = SourceReader(fetcher, workers, config.max_bytes)
            return list(await asyncio.gather(*(_check(fetcher, reader, s) for s in sources)))
    finally:
        workers.close()


async def _check(fetcher: Fetcher, reader: SourceReader, source: SourceConfig) -> SourceCheck:
    try:
        response = await fetcher.get(source.feed_url, accept=ACCEPT[source.kind])
        assert isinstance(response, Response)  # no validators were sent
        parsed = await reader.parse(source, response, since=None)
    except FetchError as error:
        return SourceCheck(source.name, source.feed_url, error=error)
    dates = [entry.published for entry in parsed.entries if entry.published]
    warnings = list(parsed.skipped)
    if parsed.ill_formed:
        warnings.append(f"ill-formed: {parsed.problem}")
    return SourceCheck(
        source.name,
        source.feed_url,
        title=parsed.title,
        entries=len(parsed.entries),
        newest=max(dates, default=None),
        warnings=tuple(warnings),
    )
