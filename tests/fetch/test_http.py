"""The HTTP client against a real local server: every safety rule, every error kind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watcher.config import HttpConfig
from watcher.errors import FetchError
from watcher.fetch.http import AddressPolicy, Fetcher, NotModified, fresh_for, parse_retry_after
from watcher.fetch.http import Response as Fetched

LOCAL = HttpConfig(allowed_networks=["127.0.0.0/8"], per_host_delay=0, timeout=5, deadline=5)


def _get(url: str, config: HttpConfig = LOCAL, **kwargs: str) -> Fetched | NotModified:
    async def go() -> Fetched | NotModified:
        async with Fetcher(config) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(go())


def _error(url: str, config: HttpConfig = LOCAL) -> FetchError:
    with pytest.raises(FetchError) as caught:
        _get(url, config)
    return caught.value


@pytest.mark.parametrize(
    ("address", "permitted"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
    ],
)
def test_address_policy_refuses_non_public_addresses(address: str, permitted: bool) -> None:
    assert AddressPolicy().permits(address) is permitted


def test_address_policy_allows_configured_networks() -> None:
    policy = AddressPolicy(["127.0.0.1/32", "10.0.0.0/8"])
    assert policy.permits("127.0.0.1")
    assert policy.permits("10.9.9.9")
    assert not policy.permits("127.0.0.2")


def test_loopback_server_is_refused_unless_allowed(httpserver: HTTPServer) -> None:
    """The guard runs when the socket is opened: nothing reaches a private address."""
    httpserver.expect_request("/x").respond_with_data("secret")
    error = _error(httpserver.url_for("/x"), HttpConfig(per_host_delay=0))
    assert "non-public address 127.0.0.1" in error.detail
    assert error.kind == "blocked"
    assert httpserver.log == []
    assert isinstance(_get(httpserver.url_for("/x")), Fetched)


def test_redirects_are_followed_and_the_final_url_recorded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_response(
        Response(status=301, headers={"Location": "/b"})
    )
    httpserver.expect_request("/b").respond_with_response(
        Response(status=302, headers={"Location": "/c"})
    )
    httpserver.expect_request("/c").respond_with_data("<p>here</p>", content_type="text/html")
    result = _get(httpserver.url_for("/a"))
    assert isinstance(result, Fetched)
    assert (result.url, result.final_url) == (httpserver.url_for("/a"), httpserver.url_for("/c"))
    assert result.body == b"<p>here</p>"


def test_redirect_loop_and_bad_redirects(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    httpserver.expect_request("/ftp").respond_with_response(
        Response(status=302, headers={"Location": "ftp://files.example/x"})
    )
    httpserver.expect_request("/private").respond_with_response(
        Response(status=302, headers={"Location": "http://10.255.0.1/internal"})
    )
    assert _error(httpserver.url_for("/loop")).kind == "redirect"
    assert _error(httpserver.url_for("/ftp")).kind == "bad_scheme"
    private = _error(httpserver.url_for("/private"))
    assert "10.255.0.1" in private.detail


def test_conditional_get_returns_not_modified(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(
            "body", headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
        )

    httpserver.expect_request("/feed").respond_with_handler(handler)
    first = _get(httpserver.url_for("/feed"))
    assert isinstance(first, Fetched)
    assert first.etag == '"v1"'
    assert isinstance(_get(httpserver.url_for("/feed"), etag='"v1"'), NotModified)


def test_size_cap_holds_while_streaming_without_content_length(httpserver: HTTPServer) -> None:
    """A chunked body with no declared length is cut off once past the cap."""
    sent: list[int] = []

    def handler(_request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(200):
                sent.append(1)
                yield b"x" * 10_000

        return Response(chunks(), content_type="text/html")

    httpserver.expect_request("/big").respond_with_handler(handler)
    config = LOCAL.model_copy(update={"max_bytes": 50_000})
    error = _error(httpserver.url_for("/big"), config)
    assert error.kind == "too_large"


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "transient"),
    [
        (404, "missing", {}, "http_4xx", False),
        (410, "gone", {}, "http_4xx", False),
        (500, "oops", {}, "http_5xx", True),
        (429, "slow down", {"Retry-After": "120"}, "rate_limited", True),
        (403, "<title>Just a moment...</title> cf-chl", {}, "blocked", True),
        (503, "<html>Checking your browser captcha</html>", {}, "blocked", True),
    ],
)
def test_status_codes_map_to_error_kinds(
    httpserver: HTTPServer,
    status: int,
    body: str,
    headers: dict[str, str],
    kind: str,
    transient: bool,
) -> None:
    httpserver.expect_request("/s").respond_with_data(body, status=status, headers=headers)
    error = _error(httpserver.url_for("/s"))
    assert (error.kind, error.transient) == (kind, transient)
    if "Retry-After" in headers:
        assert error.retry_after == 120


def test_unreachable_port_is_a_connect_error(httpserver: HTTPServer) -> None:
    port = httpserver.port
    httpserver.stop()
    try:
        assert _error(f"http://127.0.0.1:{port}/").kind == "connect"
    finally:
        httpserver.start()


def test_unknown_host_is_a_dns_error() -> None:
    assert _error("http://no-such-host.invalid/feed").kind == "dns"


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Sun, 22 Nov 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("garbage", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_holds_off_the_host_within_a_pass(httpserver: HTTPServer) -> None:
    """After a 429 with Retry-After: 1, the next request to that host waits (lower bound)."""
    starts: list[float] = []

    def handler(_request: Request) -> Response:
        starts.append(time.monotonic())
        if len(starts) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response("ok")

    httpserver.expect_request("/r").respond_with_handler(handler)

    async def go() -> None:
        async with Fetcher(LOCAL) as fetcher:
            with pytest.raises(FetchError):
                await fetcher.get(httpserver.url_for("/r"))
            await fetcher.get(httpserver.url_for("/r"))

    asyncio.run(go())
    assert starts[1] - starts[0] >= 0.9


def test_freshness_from_max_age_or_expires() -> None:
    now = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    assert fresh_for(httpx.Headers({"Cache-Control": "public, max-age=3600"}), now) == 3600
    assert fresh_for(httpx.Headers({"Cache-Control": 'max-age="60"'}), now) == 60
    later = {"Expires": "Sun, 22 Nov 2026 09:00:00 GMT"}
    assert fresh_for(httpx.Headers(later), now) == 7200
    earlier = {"Expires": "Sun, 22 Nov 2026 06:00:00 GMT"}
    assert fresh_for(httpx.Headers(earlier), now) == 0
    assert fresh_for(httpx.Headers({"Expires": "0"}), now) is None
    assert fresh_for(httpx.Headers({"Cache-Control": "no-cache"}), now) is None
    assert fresh_for(httpx.Headers({}), now) is None


def test_a_long_retry_after_fails_the_host_s_next_requests_at_once(httpserver: HTTPServer) -> None:
    """A pass does not wait an hour for one host: its next request fails as
    rate_limited, carrying the time left, and never reaches the server."""
    httpserver.expect_request("/busy").respond_with_data(
        "busy", 503, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/other").respond_with_data("ok")

    async def go() -> FetchError:
        async with Fetcher(LOCAL) as fetcher:
            with pytest.raises(FetchError):
                await fetcher.get(httpserver.url_for("/busy"))
            with pytest.raises(FetchError) as caught:
                await fetcher.get(httpserver.url_for("/other"))
            return caught.value

    error = asyncio.run(go())
    assert error.kind == "rate_limited"
    assert error.retry_after is not None
    assert error.retry_after > 3500
    assert [request.path for request, _response in httpserver.log] == ["/busy"]
