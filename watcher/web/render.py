"""Templates of the page: the digest's Jinja2 environment (everything escaped, strict
undefined names), with the CSRF token and a few formats every template uses."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse

from watcher.delivery.digest.content import tie_title
from watcher.delivery.templating import html_environment
from watcher.web.security import CSRF_FIELD, csrf_token

__all__ = ["render"]


@cache
def _environment() -> Environment:
    env = html_environment().overlay()
    env.filters["tie"] = tie_title
    env.filters["day"] = _day
    return env


def render(
    request: Request, template: str, values: dict[str, Any], status: int = 200
) -> HTMLResponse:
    page = _environment().get_template(f"web/{template}")
    body = page.render(
        **values,
        csrf_field=CSRF_FIELD,
        csrf=csrf_token(request),
        login=getattr(request.state, "login_required", False),
    )
    return HTMLResponse(body, status_code=status)


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "undated"
