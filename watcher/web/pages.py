"""The pages: the inbox, an article, and the mark its buttons make.

Handlers read the store in a thread (it blocks) and render Jinja2 templates, which escape
everything a feed or a page supplied. A mark goes through ``mark_item``, the code path of
``watcher items mark``: the same effects, then a redirect to the article's own page,
built from its number (never from the request).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from watcher.config import Config
from watcher.relevance.marks import MARKS
from watcher.store import InboxFilter, Store
from watcher.store._pages import MARK_FILTERS
from watcher.web.render import render
from watcher.web.security import CSRF_FIELD, valid_csrf

__all__ = ["PER_PAGE", "Pages", "Segment", "highlighted", "page_number", "parse_day"]

PER_PAGE = 25
_MOVED_SHOWN = 20
_BACK = {"inbox": "/", "near": "/near-misses"}  # where a list's buttons return (fixed paths)


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    evidence: bool


class Pages:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    async def inbox(self, request: Request) -> Response:
        ties = self.config.lexicon().names
        wanted, page = _inbox_query(request, ties)
        result = await asyncio.to_thread(
            self.store.inbox, wanted, ties, (page - 1) * PER_PAGE, PER_PAGE
        )
        pages = max(1, math.ceil(result.total / PER_PAGE))
        if page > pages:
            raise HTTPException(404, f"there is no page {page}: the last is {pages}")
        groups: dict[str, list[Any]] = {}
        for row in result.rows:
            groups.setdefault(row.ties[0] if row.ties else "other", []).append(row)
        return render(
            request,
            "inbox.html.j2",
            {
                "filter": wanted,
                "groups": groups,
                "rows": result.rows,
                "total": result.total,
                "per_tie": result.per_tie,
                "ties": ties,
                "page": page,
                "pages": pages,
                "marks": MARK_FILTERS,
                "query": {k: v for k, v in request.query_params.items() if k != "page" and v},
            },
        )

    async def item(self, request: Request) -> Response:
        item_id = _item_id(request)
        moved = _ids(request.query_params.get("moved", ""))
        found = await asyncio.to_thread(self._item, item_id, moved)
        marked = request.query_params.get("marked") == str(item_id)
        values = found | {"ties": self.config.lexicon().names, "just_marked": marked}
        return render(request, "item.html.j2", values)

    def _item(self, item_id: int, moved: list[int]) -> dict[str, Any]:
        item = self.store.find_item(str(item_id))
        details = self.store.item_details(item_id)
        if item is None or details is None:
            raise HTTPException(404, f"there is no article {item_id}")
        return {
            "item": item,
            "details": details,
            "paragraphs": [highlighted(p, item.evidence) for p in _paragraphs(item.text)],
            "copies": self.store.copies([item_id]).get(item_id, []),
            "history": self.store.marks_of(item_id),
            "moved": [found for i in moved if (found := self.store.find_item(str(i)))],
        }

    async def mark(self, request: Request) -> Response:
        from watcher.services.app import mark as record_mark

        item_id = _item_id(request)
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            raise HTTPException(403, "this form is stale or came from another site: reload it")
        mark = str(form.get("mark", ""))
        if mark not in MARKS:
            raise HTTPException(400, f"a mark is one of {', '.join(MARKS)}")
        labels = [str(label) for label in form.getlist("label")] if mark == "relevant" else []
        now = datetime.now(UTC)
        try:
            _result, report = await asyncio.to_thread(
                record_mark, self.config, self.store, str(item_id), mark, labels, now
            )
        except LookupError as exc:
            raise HTTPException(404, str(exc.args[0])) from exc
        except ValueError as exc:
            raise HTTPException(400, str(exc.args[0])) from exc
        back = _BACK.get(str(form.get("back", "")), f"/items/{item_id}")
        moved = ",".join(str(other.id) for other in report.moved[:_MOVED_SHOWN])
        return RedirectResponse(f"{back}?marked={item_id}&moved={moved}", status_code=303)


def highlighted(paragraph: str, evidence: tuple[str, ...]) -> list[Segment]:
    """The paragraph cut into plain text and the evidence sentences found in it."""
    spans: list[tuple[int, int]] = []
    for sentence in evidence:
        start = paragraph.find(sentence) if len(sentence) >= 10 else -1
        if start >= 0:
            spans.append((start, start + len(sentence)))
    segments: list[Segment] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:
            continue
        if start > at:
            segments.append(Segment(paragraph[at:start], False))
        segments.append(Segment(paragraph[start:end], True))
        at = end
    if at < len(paragraph):
        segments.append(Segment(paragraph[at:], False))
    return segments


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _ids(listed: str) -> list[int]:
    """Item numbers of a comma-separated list from the address; anything else dropped."""
    return [int(part) for part in listed.split(",") if part.isdigit() and len(part) <= 12][
        :_MOVED_SHOWN
    ]


def _item_id(request: Request) -> int:
    raw = str(request.path_params.get("item_id", ""))
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404, f"there is no article {raw!r}")
    return int(raw)


def _inbox_query(request: Request, ties: tuple[str, ...]) -> tuple[InboxFilter, int]:
    """The filters of the inbox's address; a malformed one is a 400 that names it."""
    params = request.query_params
    tie = params.get("tie") or None
    if tie is not None and tie not in ties:
        raise HTTPException(400, f"unknown tie {tie!r}: ties are {', '.join(ties)}")
    mark = params.get("mark") or None
    if mark is not None and mark not in MARK_FILTERS:
        raise HTTPException(400, f"mark is one of {', '.join(MARK_FILTERS)}")
    since, until = parse_day(params.get("since"), "since"), parse_day(params.get("until"), "until")
    return (
        InboxFilter(
            tie=tie,
            source=params.get("source") or None,
            language=params.get("lang") or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            mark=mark,
        ),
        page_number(request),
    )


def page_number(request: Request) -> int:
    raw = request.query_params.get("page") or "1"
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 6:
        raise HTTPException(400, f"page must be a number from 1, not {raw!r}")
    return int(raw)


def parse_day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date (YYYY-MM-DD), not {value!r}") from None
