"""One connection pool per origin: kept while used, closed once idle and unused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpcore
import pytest
from pytest_httpserver import HTTPServer

from watcher.fetch.pools import PoolPerOrigin

IDLE_AFTER = 0.3


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def _request(url: str) -> httpcore.Request:
    host = url.split("/")[2]
    return httpcore.Request("GET", url, headers=[(b"Host", host.encode())])


async def _get(pools: PoolPerOrigin, url: str) -> bytes:
    response = await pools.handle_async_request(_request(url))
    try:
        return await response.aread()
    finally:
        await response.aclose()


def test_each_origin_gets_a_pool_and_an_idle_unused_one_is_closed(
    httpserver: HTTPServer, other_server: HTTPServer
) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    other_server.expect_request("/b").respond_with_data("b")

    async def go() -> None:
        pools = PoolPerOrigin(httpcore.AsyncConnectionPool, IDLE_AFTER)
        try:
            assert await _get(pools, httpserver.url_for("/a")) == b"a"
            assert await _get(pools, other_server.url_for("/b")) == b"b"
            assert sorted(port for _scheme, _host, port in pools.origins) == sorted(
                [httpserver.port, other_server.port]
            )
            await asyncio.sleep(IDLE_AFTER * 2)
            assert await _get(pools, httpserver.url_for("/a")) == b"a"
            assert [port for _scheme, _host, port in pools.origins] == [httpserver.port]
        finally:
            await pools.aclose()
        assert pools.origins == []

    asyncio.run(go())


def test_a_pool_with_a_response_being_read_is_kept(
    httpserver: HTTPServer, other_server: HTTPServer
) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    other_server.expect_request("/b").respond_with_data("b" * 100_000)

    async def go() -> None:
        pools = PoolPerOrigin(httpcore.AsyncConnectionPool, IDLE_AFTER)
        try:
            reading = await pools.handle_async_request(_request(other_server.url_for("/b")))
            await asyncio.sleep(IDLE_AFTER * 2)
            assert await _get(pools, httpserver.url_for("/a")) == b"a"
            assert other_server.port in [port for _scheme, _host, port in pools.origins]
            assert await reading.aread() == b"b" * 100_000, "not cut off under the reader"
            await reading.aclose()
        finally:
            await pools.aclose()

    asyncio.run(go())
