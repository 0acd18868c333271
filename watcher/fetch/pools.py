"""One small connection pool per origin, instead of one pool for every host.

httpcore's pool walks every connection it holds each time it assigns a request and each
time one is released, polling the idle sockets as it goes: with the 128 connections a
pass keeps open, that bookkeeping cost more CPU than the pass's own work (measured by
bench/scale.py). A host never has more than a few requests in flight (the fetcher's
pacer), so a pool per origin stays small and each walk short. A pool nobody has used
for ``idle_after`` seconds, all its connections idle, is closed, so a daemon that meets
thousands of hosts over months does not keep a pool for each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

import httpcore

__all__ = ["PoolPerOrigin"]

Origin = tuple[bytes, bytes, int | None]


class PoolPerOrigin:
    """What httpx's transport asks of its pool: ``handle_async_request`` and ``aclose``."""

    def __init__(self, make: Callable[[], httpcore.AsyncConnectionPool], idle_after: float):
        self._make = make
        self._idle_after = idle_after
        self._pools: dict[Origin, httpcore.AsyncConnectionPool] = {}
        self._used: dict[Origin, float] = {}
        self._swept = time.monotonic()

    @property
    def origins(self) -> list[Origin]:
        """The origins that have a pool now."""
        return list(self._pools)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port)
        now = time.monotonic()
        self._used[origin] = now
        if now - self._swept >= self._idle_after:
            self._swept = now
            await self._close_idle(now)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = self._make()
        return await pool.handle_async_request(request)

    async def _close_idle(self, now: float) -> None:
        for origin, pool in list(self._pools.items()):
            unused = now - self._used.get(origin, now) >= self._idle_after
            if unused and all(connection.is_idle() for connection in pool.connections):
                del self._pools[origin]
                self._used.pop(origin, None)
                await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> PoolPerOrigin:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()
