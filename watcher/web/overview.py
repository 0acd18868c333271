"""The overview: articles per tie per week over six months as a chart, and the sources that
brought most per tie. The chart is SVG drawn here (no script, nothing from outside)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from watcher.config import Config
from watcher.store import Store
from watcher.web.render import render

__all__ = ["Chart", "Overview", "weekly_chart"]

WEEKS = 26
_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP = 640, 240, 36, 28, 12
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


@dataclass(frozen=True, slots=True)
class Line:
    tie: str
    colour: str
    points: str  # SVG polyline points
    total: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    lines: tuple[Line, ...]
    ticks: tuple[tuple[float, str], ...]  # x, label (a month's first week)
    top: int  # the y axis' highest count
    top_y: float
    base_y: float
    left: float


def weekly_chart(counts: dict[str, list[int]], starts: list[datetime]) -> Chart:
    """One line per tie over the weeks beginning at ``starts``."""
    top = max([1, *(n for weekly in counts.values() for n in weekly)])
    span_x = (_WIDTH - _LEFT - 8) / max(1, len(starts) - 1)
    span_y = _HEIGHT - _BOTTOM - _TOP

    def x(week: int) -> float:
        return round(_LEFT + week * span_x, 1)

    def y(count: int) -> float:
        return round(_HEIGHT - _BOTTOM - span_y * count / top, 1)

    lines = tuple(
        Line(
            tie,
            _COLOURS[number % len(_COLOURS)],
            " ".join(f"{x(week)},{y(count)}" for week, count in enumerate(weekly)),
            sum(weekly),
        )
        for number, (tie, weekly) in enumerate(counts.items())
    )
    ticks = tuple(
        (x(week), f"{start:%b}")
        for week, start in enumerate(starts)
        if week == 0 or start.month != starts[week - 1].month
    )
    return Chart(_WIDTH, _HEIGHT, lines, ticks, top, y(top), y(0), _LEFT)


class Overview:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    async def page(self, request: Request) -> Response:
        ties = self.config.lexicon().names
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
        rows = await asyncio.to_thread(self.store.relevant_by_week, first)
        weekly = {tie: [0] * WEEKS for tie in ties}
        sources: dict[str, Counter[str]] = {tie: Counter() for tie in ties}
        for when, labels, source in rows:
            week = min(WEEKS - 1, max(0, (when - first).days // 7))
            for tie in labels:
                if tie in weekly:
                    weekly[tie][week] += 1
                    sources[tie][source] += 1
        starts = [first + timedelta(weeks=week) for week in range(WEEKS)]
        values = {
            "chart": weekly_chart(weekly, starts),
            "since": first,
            "sources": {tie: counter.most_common(5) for tie, counter in sources.items()},
        }
        return render(request, "overview.html.j2", values)
