"""What keeps the page safe: CSRF tokens, headers, and who may listen where.

- CSRF: a random token in a cookie (HttpOnly, SameSite=Strict) that every form repeats in
  a hidden field; a POST whose field does not match its cookie is refused (403). A page
  on another site can neither read the cookie nor send it along.
- Headers: a Content-Security-Policy that allows nothing but this origin's own files (no
  inline script, no outside origin, no framing), no MIME sniffing, no referrer.
- Listening: on a loopback address by default; on any other only with a password.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "PASSWORD_VARIABLE",
    "csrf_token",
    "is_loopback",
    "secure_headers",
    "set_csrf_cookie",
    "valid_csrf",
    "web_password",
]

CSRF_COOKIE = "watcher_csrf"
CSRF_FIELD = "csrf"
PASSWORD_VARIABLE = "WATCHER_WEB_PASSWORD"
_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def csrf_token(request: Request) -> str:
    """The request's token: its cookie's, or a new one (set on the response)."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) >= 32:
        return existing
    token = getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token is not None:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def valid_csrf(request: Request, submitted: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return (
        isinstance(submitted, str)
        and len(cookie) >= 32
        and hmac.compare_digest(cookie.encode(), submitted.encode())
    )


def secure_headers(response: Response) -> None:
    response.headers["Content-Security-Policy"] = _POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def web_password() -> str | None:
    """From the environment only: a password in a configuration file would be read by
    whoever may read the file."""
    return os.environ.get(PASSWORD_VARIABLE) or None
