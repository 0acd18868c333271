"""The login a password asks for: a signed session cookie, and failures slowed down.

Without ``WATCHER_WEB_PASSWORD`` (the page listens on loopback only) there is no login.
With it, every page but ``/healthz`` needs a session: a cookie (HttpOnly, SameSite=Strict,
Secure behind https) holding its expiry and an HMAC of it under a key made at start, so
a restart logs everyone out. Each failed attempt from an address doubles its wait before
the answer (up to ``_MAX_DELAY``); a success clears it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Login", "failure_delay"]

SESSION_COOKIE = "watcher_session"
_SESSION_SECONDS = 14 * 24 * 3600
_MAX_DELAY = 8.0


def failure_delay(failures: int) -> float:
    """The wait before answering the ``failures``-th failed attempt in a row."""
    return min(_MAX_DELAY, 0.25 * 2.0 ** (failures - 1))


class Login:
    def __init__(self, password: str | None) -> None:
        self.password = password
        self._key = secrets.token_bytes(32)
        self._failures: dict[str, int] = {}

    @property
    def required(self) -> bool:
        return self.password is not None

    def allows(self, request: Request) -> bool:
        if self.password is None:
            return True
        expiry, _, signature = request.cookies.get(SESSION_COOKIE, "").partition(".")
        if not expiry.isdigit() or int(expiry) < time.time():
            return False
        return hmac.compare_digest(signature, self._sign(expiry))

    async def attempt(self, request: Request, password: object) -> bool:
        """Whether ``password`` is right; a wrong one waits, longer after each."""
        client = request.client.host if request.client else "?"
        right = (
            self.password is not None
            and isinstance(password, str)
            and hmac.compare_digest(password.encode(), self.password.encode())
        )
        if right:
            self._failures.pop(client, None)
            return True
        failures = self._failures.get(client, 0) + 1
        self._failures[client] = failures
        await asyncio.sleep(failure_delay(failures))
        return False

    def failures(self, client: str) -> int:
        """Failed attempts from ``client`` since its last success."""
        return self._failures.get(client, 0)

    def open_session(self, request: Request, response: Response) -> None:
        expiry = str(int(time.time()) + _SESSION_SECONDS)
        response.set_cookie(
            SESSION_COOKIE,
            f"{expiry}.{self._sign(expiry)}",
            max_age=_SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    @staticmethod
    def close_session(response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def _sign(self, expiry: str) -> str:
        return hmac.new(self._key, expiry.encode(), hashlib.sha256).hexdigest()
