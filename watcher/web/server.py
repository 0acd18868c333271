"""The page served by uvicorn on the caller's event loop (the daemon's, or ``watcher serve``'s).

The socket is bound here, so an address in use is a clear error at start-up and not
uvicorn's exit; uvicorn's own signal handling is left out, because the daemon owns the
signals (SIGTERM stops it, SIGHUP reloads its configuration).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from watcher.errors import WatcherError
from watcher.web.security import PASSWORD_VARIABLE, is_loopback

__all__ = ["WebServer", "check_address"]

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon's handlers stay in place


def check_address(address: str, password: str | None) -> tuple[str, int]:
    """(host, port) of ``host:port``; WatcherError for a malformed one, or for an address
    other than loopback without a password."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise WatcherError(f"daemon.listen: {address!r} is not host:port")
    if not is_loopback(host) and password is None:
        raise WatcherError(
            f"daemon.listen: {address} is reachable from other machines; set "
            f"{PASSWORD_VARIABLE} to serve the review page there (or listen on 127.0.0.1)"
        )
    return host, int(port)


class WebServer:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, address: str, password: str | None) -> None:
        host, port = check_address(address, password)
        try:
            sock = socket.create_server((host, port), family=_family(host))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise WatcherError(f"daemon.listen: cannot listen on {address}: {reason}") from exc
        config = uvicorn.Config(
            self._app, log_config=None, access_log=False, lifespan="off", server_header=False
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # raises what stopped it
        log.info("web_listening", extra={"address": address})

    async def close(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._task


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
