"""The other lists: near misses to rescue, search results, and the sources' state."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from watcher.config import Config
from watcher.search import SearchQuery, parse_query
from watcher.sources.planning import state_health
from watcher.store import Store
from watcher.web.pages import PER_PAGE, Segment, page_number, parse_day
from watcher.web.render import render

__all__ = ["Lists", "snippet_segments"]

_SEARCH_LIMIT = 50
_NEAR_FLOOR = 0.05  # below this an article is no near miss: nothing of the beat in it


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    feed_url: str
    state: str
    failing: bool
    since: datetime | None
    last_success: datetime | None
    next_poll: datetime | None
    waiting: int


class Lists:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    async def near_misses(self, request: Request) -> Response:
        page = page_number(request)
        floor = min(_NEAR_FLOOR, self.config.classify.threshold)
        found = await asyncio.to_thread(
            self.store.near_misses, floor, (page - 1) * PER_PAGE, PER_PAGE
        )
        pages = max(1, math.ceil(found.total / PER_PAGE))
        if page > pages:
            raise HTTPException(404, f"there is no page {page}: the last is {pages}")
        values = {"rows": found.rows, "total": found.total, "page": page, "pages": pages}
        return render(
            request, "near.html.j2", values | {"threshold": self.config.classify.threshold}
        )

    async def search(self, request: Request) -> Response:
        params = request.query_params
        text = params.get("q", "").strip()
        ties = self.config.lexicon().names
        tie = params.get("tie") or None
        if tie is not None and tie not in ties:
            raise HTTPException(400, f"unknown tie {tie!r}: ties are {', '.join(ties)}")
        since = parse_day(params.get("since"), "since")
        terms, phrases = parse_query(text)
        hits: list[Any] = []
        if terms or phrases:
            wanted = SearchQuery(
                terms, phrases, tie, params.get("source") or None, since, _SEARCH_LIMIT
            )
            hits = await asyncio.to_thread(self.store.search, wanted)
        values = {
            "q": text,
            "tie": tie,
            "ties": ties,
            "source": params.get("source", ""),
            "since": params.get("since", ""),
            "hits": [(hit, snippet_segments(hit.snippet)) for hit in hits],
            "searched": bool(terms or phrases),
        }
        return render(request, "search.html.j2", values)

    async def sources(self, request: Request) -> Response:
        rows = await asyncio.to_thread(self._sources)
        return render(request, "sources.html.j2", {"rows": rows})

    def _sources(self) -> list[SourceRow]:
        config = self.config
        states = {
            s.feed_url: s for s in self.store.source_states([s.feed_url for s in config.sources])
        }
        waiting = self.store.waiting_by_source()
        now = datetime.now(UTC)
        rows = []
        for source in config.sources:
            state = states.get(source.feed_url)
            if state is None:
                rows.append(
                    SourceRow(source.name, source.feed_url, "never polled", False, *(None,) * 3, 0)
                )
                continue
            said = state_health(state, config.schedule.stale_after_polls, now)
            queued = waiting.get(state.id)
            rows.append(
                SourceRow(
                    name=source.name,
                    feed_url=source.feed_url,
                    state=said,
                    failing=state.consecutive_failures > 0,
                    since=state.failing_since if state.consecutive_failures else None,
                    last_success=state.last_success_at,
                    next_poll=state.next_poll_at,
                    waiting=queued.count if queued else 0,
                )
            )
        order = {"failing": 0, "stale": 1, "never": 2}
        return sorted(rows, key=lambda row: (order.get(row.state.split(" ")[0], 3), row.name))


def snippet_segments(snippet: str) -> list[Segment]:
    """The search's passage, its «matches» as evidence to highlight (escaped as text)."""
    segments: list[Segment] = []
    for number, part in enumerate(snippet.replace("»", "«").split("«")):
        if part:
            segments.append(Segment(part, number % 2 == 1))
    return segments
