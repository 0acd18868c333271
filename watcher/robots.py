"""robots.txt for article pages, fetched through watcher's own client and cached per host.

Parsed by the standard library's ``urllib.robotparser``. What a host's answer means
(RFC 9309, section 2.3.1):

- 2xx: its rules apply, matched against watcher's product token (``watcher``);
- 4xx (none there): everything is allowed;
- 5xx, 429, a bot wall, or no answer at all: nothing is allowed for now; the host is
  asked again after ``_UNREACHABLE_TTL``, sooner than after real rules.

Feeds are not subject to it: a feed is published to be polled. The cache outlives the
fetcher a pass uses (the daemon keeps one for all its passes), so each request is given
the fetcher to read a host's rules with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from watcher.errors import FetchError
from watcher.http import Fetcher, Response

__all__ = ["PRODUCT_TOKEN", "RobotsCache"]

log = logging.getLogger(__name__)

PRODUCT_TOKEN = "watcher"
_TTL = 24 * 3600.0  # seconds a host's rules are kept
_UNREACHABLE_TTL = 3600.0


class RobotsCache:
    def __init__(self) -> None:
        self._rules: dict[str, tuple[RobotFileParser, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, fetcher: Fetcher, url: str) -> bool:
        """Whether ``url`` may be fetched. Never raises: a failure to read the rules
        counts as a refusal, for now."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._locks.setdefault(origin, asyncio.Lock()):
            cached = self._rules.get(origin)
            if cached is None or cached[1] <= time.monotonic():
                cached = await self._read(fetcher, origin)
                self._rules[origin] = cached
        return cached[0].can_fetch(PRODUCT_TOKEN, url)

    async def _read(self, fetcher: Fetcher, origin: str) -> tuple[RobotFileParser, float]:
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            response = await fetcher.get(f"{origin}/robots.txt", accept="text/plain")
        except FetchError as error:
            if error.kind == "http_4xx":
                parser.parse([])  # no rules: everything allowed
                return parser, time.monotonic() + _TTL
            log.info("robots_unreachable", extra={"host": origin, "error": str(error)})
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser, time.monotonic() + _UNREACHABLE_TTL
        assert isinstance(response, Response)  # no validators were sent
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return parser, time.monotonic() + _TTL
