"""The login's rules, apart from the page: failed attempts slowed, sessions signed."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from watcher.web.login import SESSION_COOKIE, Login, failure_delay


def _request(cookie: str = "", client: str = "10.0.0.7") -> Request:
    headers = [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())] if cookie else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "headers": headers,
        "client": (client, 5000),
        "scheme": "http",
        "server": ("127.0.0.1", 8464),
        "query_string": b"",
    }
    return Request(scope)


def test_each_failure_in_a_row_waits_longer_up_to_a_cap() -> None:
    delays = [failure_delay(n) for n in range(1, 8)]
    assert delays[:4] == [0.25, 0.5, 1.0, 2.0]
    assert delays[-1] == 8.0
    assert delays == sorted(delays)


def test_failures_are_counted_per_address_and_a_success_clears_them() -> None:
    login = Login("correct horse")
    assert not asyncio.run(login.attempt(_request(), "wrong"))
    assert not asyncio.run(login.attempt(_request(), None))
    assert login.failures("10.0.0.7") == 2
    assert login.failures("10.0.0.8") == 0
    assert asyncio.run(login.attempt(_request(), "correct horse"))
    assert login.failures("10.0.0.7") == 0


def test_a_session_cookie_is_signed_and_a_forged_one_refused() -> None:
    login = Login("correct horse")
    response = Response()
    login.open_session(_request(), response)
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert login.allows(_request(cookie))
    expiry, _, signature = cookie.partition(".")
    assert not login.allows(_request(f"{int(expiry) + 1}.{signature}"))
    assert not login.allows(_request("9999999999.forged"))
    assert not Login("correct horse").allows(_request(cookie)), "another key: a restart"
    assert Login(None).allows(_request()), "no password, no login"
