"""The ASGI app: the review pages, the login a password asks for, and the operator's paths.

- ``/healthz``: 200 when the scheduler is alive (where one runs) and the database answers,
  else 503; a small JSON body says which, and when the last pass finished. Never behind
  the login: a service manager asks it.
- ``/metrics``: Prometheus text (``watcher.web.metrics``).
- ``/feed.atom``: the relevant articles as Atom (``?label=TIE`` for one tie).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from watcher.config import Config
from watcher.delivery.atom import ATOM_TYPE, relevant_feed
from watcher.store import Store
from watcher.web.lists import Lists
from watcher.web.login import Login
from watcher.web.metrics import Metrics, exposition
from watcher.web.overview import Overview
from watcher.web.pages import Pages
from watcher.web.render import render
from watcher.web.security import CSRF_FIELD, secure_headers, set_csrf_cookie, valid_csrf

__all__ = ["WebContext", "make_app"]

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
_OPEN = ("/healthz", "/login", "/static/")  # answered without a session


@dataclass
class WebContext:
    store: Store
    config: Callable[[], Config]  # the daemon's current configuration (SIGHUP reloads it)
    metrics: Metrics
    scheduler_alive: Callable[[], bool] | None = None  # None: no scheduler in this process
    password: str | None = None


def make_app(context: WebContext) -> Starlette:
    login = Login(context.password)

    def pages() -> Pages:
        return Pages(context.store, context.config())

    async def inbox(request: Request) -> Response:
        return await pages().inbox(request)

    async def item(request: Request) -> Response:
        return await pages().item(request)

    async def mark(request: Request) -> Response:
        return await pages().mark(request)

    def lists() -> Lists:
        return Lists(context.store, context.config())

    async def near_misses(request: Request) -> Response:
        return await lists().near_misses(request)

    async def search(request: Request) -> Response:
        return await lists().search(request)

    async def sources(request: Request) -> Response:
        return await lists().sources(request)

    async def overview(request: Request) -> Response:
        return await Overview(context.store, context.config()).page(request)

    async def healthz(_request: Request) -> Response:
        alive = context.scheduler_alive() if context.scheduler_alive else True
        database = await asyncio.to_thread(context.store.ping)
        last = context.metrics.last_pass_at
        report = {
            "scheduler": "alive"
            if context.scheduler_alive and alive
            else ("stopped" if context.scheduler_alive else "none"),
            "database": "ok" if database else "unreachable",
            "last_pass": last.isoformat() if last else None,
            "passes": context.metrics.passes,
        }
        body = json.dumps(report) + "\n"
        status = 200 if alive and database else 503
        return Response(body, status_code=status, media_type="application/json")

    async def metrics(_request: Request) -> Response:
        body = await asyncio.to_thread(exposition, context.metrics)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def feed(request: Request) -> Response:
        label = request.query_params.get("label")
        config = context.config()
        if label is not None and label not in config.lexicon().names:
            return PlainTextResponse(f"unknown tie {label!r}\n", status_code=404)
        try:
            text = await asyncio.to_thread(relevant_feed, context.store, label)
        except Exception:
            log.exception("feed_failed")
            return PlainTextResponse("the feed cannot be read now\n", status_code=503)
        return Response(text, media_type=ATOM_TYPE)

    async def login_page(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            if not valid_csrf(request, form.get(CSRF_FIELD)):
                raise HTTPException(403, "this form is stale or came from another site")
            if await login.attempt(request, form.get("password")):
                response = RedirectResponse("/", status_code=303)
                login.open_session(request, response)
                return response
            return render(request, "login.html.j2", {"failed": True}, 401)
        return render(request, "login.html.j2", {"failed": False})

    async def logout(request: Request) -> Response:
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            raise HTTPException(403, "this form is stale or came from another site")
        response = RedirectResponse("/login", status_code=303)
        Login.close_session(response)
        return response

    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        request.state.login_required = login.required
        if not login.allows(request) and not request.url.path.startswith(_OPEN):
            response: Response = RedirectResponse("/login", status_code=303)
            if request.method != "GET":
                response = PlainTextResponse("log in first\n", status_code=401)
        else:
            response = await call_next(request)
        set_csrf_cookie(request, response)
        secure_headers(response)
        return response

    async def error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = exc.detail if isinstance(exc, HTTPException) else "something went wrong"
        if status == 500:
            log.error("page_failed", exc_info=exc, extra={"path": request.url.path})
        return render(request, "error.html.j2", {"status": status, "message": message}, status)

    routes = [
        Route("/", inbox),
        Route("/items/{item_id}", item),
        Route("/items/{item_id}/mark", mark, methods=["POST"]),
        Route("/near-misses", near_misses),
        Route("/search", search),
        Route("/sources", sources),
        Route("/overview", overview),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/feed.atom", feed),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    handlers: dict[int | type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: error,
        Exception: error,
    }
    return Starlette(
        routes=routes,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
        exception_handlers=handlers,
    )
