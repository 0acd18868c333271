"""``watcher serve``: the review page alone, on the database a daemon writes elsewhere."""

from __future__ import annotations

import asyncio
import logging
import signal

from watcher.config import Config
from watcher.services.app import open_store
from watcher.web.app import WebContext, make_app
from watcher.web.metrics import Metrics
from watcher.web.security import web_password
from watcher.web.server import WebServer

__all__ = ["serve_alone"]

log = logging.getLogger(__name__)


async def serve_alone(config: Config, address: str) -> None:
    """Until SIGTERM or SIGINT. Raises WatcherError (the address), StoreError or OSError
    (the corpus folder, which marks file into) at start-up."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopping.set)
    password = web_password()
    store = open_store(config)
    try:
        context = WebContext(store, lambda: config, Metrics(), password=password)
        server = WebServer(make_app(context))
        await server.start(address, password)
        try:
            await stopping.wait()
        finally:
            await server.close()
    finally:
        store.close()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
    log.info("web_stopped")
