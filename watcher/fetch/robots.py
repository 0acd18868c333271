"""robots.txt for article pages, fetched through watcher's own client and cached per host.

Parsed by the standard library's ``urllib.robotparser``. What a host's answer means
(RFC 9309, section 2.3.1):

- 2xx: its rules apply, matched against watcher's product token (``watcher``);
- 4xx (none there): everything is allowed;
- 5xx, 429, a bot wall, or no answer at all: nothing is fetched for now, and the
  entries wait for a later try (they are not given up); the host is asked again after
  ``_UNREACHABLE_TTL``, sooner than after real rules.

Feeds are not subject to it: a feed is published to be polled. The cache outlives the
fetcher a pass uses (the daemon keeps one for all its passes), so each request is given
the fetcher to read a host's rules with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from watcher.errors import FetchError, FetchErrorKind
from watcher.fetch.http import Fetcher, Response

__all__ = ["PRODUCT_TOKEN", "Refusal", "RobotsCache"]

log = logging.getLogger(__name__)

PRODUCT_TOKEN = "watcher"
_TTL = 24 * 3600.0  # seconds a host's rules are kept
_UNREACHABLE_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a page may not be fetched now, and whether a later try may succeed."""

    reason: str
    retry: bool  # the rules could not be read: the entry waits, it is not given up
    kind: FetchErrorKind = "robots"  # when unreadable, why: dns, timeout, http_5xx...


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: RobotFileParser | None  # None: the rules could not be read
    expires: float  # time.monotonic() after which they are read again
    problem: str = ""  # why they could not be read
    kind: FetchErrorKind = "robots"


class RobotsCache:
    def __init__(self) -> None:
        self._rules: dict[str, _Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def refusal(self, fetcher: Fetcher, url: str) -> Refusal | None:
        """None when ``url`` may be fetched; else why not. Refused by the rules: for
        good. Rules unreadable: retried, so an article is not lost to a host's passing
        outage."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._locks.setdefault(origin, asyncio.Lock()):
            rules = self._rules.get(origin)
            if rules is None or rules.expires <= time.monotonic():
                rules = await self._read(fetcher, origin)
                self._rules[origin] = rules
        if rules.parser is None:
            return Refusal(f"robots.txt unreadable: {rules.problem}", True, rules.kind)
        if not rules.parser.can_fetch(PRODUCT_TOKEN, url):
            return Refusal("disallowed by robots.txt", retry=False)
        return None

    async def _read(self, fetcher: Fetcher, origin: str) -> _Rules:
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            response = await fetcher.get(f"{origin}/robots.txt", accept="text/plain")
        except FetchError as error:
            if error.kind == "http_4xx":
                parser.parse([])  # no rules: everything allowed
                return _Rules(parser, time.monotonic() + _TTL)
            log.info("robots_unreachable", extra={"host": origin, "error": str(error)})
            return _Rules(None, time.monotonic() + _UNREACHABLE_TTL, str(error), error.kind)
        assert isinstance(response, Response)  # no validators were sent
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return _Rules(parser, time.monotonic() + _TTL)
