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
from watcher.feeds import parse_feed
from watcher.http import Fetcher, Response
from watcher.pipeline import FEED_ACCEPT, check_parsed

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
    async with Fetcher(config) as fetcher:
        return list(await asyncio.gather(*(_check(fetcher, source) for source in sources)))


async def _check(fetcher: Fetcher, source: SourceConfig) -> SourceCheck:
    try:
        response = await fetcher.get(source.feed_url, accept=FEED_ACCEPT)
        assert isinstance(response, Response)  # no validators were sent
        body, url, kind = response.body, response.final_url, response.content_type
        parsed = check_parsed(response, parse_feed(body, url=url, content_type=kind))
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
