"""robots.txt: what each answer of a host means, and that it is asked once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from watcher.config import HttpConfig
from watcher.http import Fetcher
from watcher.robots import RobotsCache

CONFIG = HttpConfig(per_host_delay=0, timeout=5, deadline=5)
EVERYONE = "User-agent: *\nDisallow: /private/\n"
OURS = EVERYONE + "\nUser-agent: watcher\nDisallow: /no-watcher/\n"


def _allowed(answer: httpx.Response, *urls: str) -> tuple[list[bool], int]:
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return answer

    async def check() -> list[bool]:
        cache = RobotsCache()
        results = []
        for url in urls:  # a fetcher per check, as passes have: the rules outlive it
            async with Fetcher(CONFIG, transport=httpx.MockTransport(handler)) as fetcher:
                results.append(await cache.allowed(fetcher, url))
        return results

    return asyncio.run(check()), len(asked)


def test_rules_for_everyone_apply_and_are_read_once_per_host_across_fetchers() -> None:
    results, asked = _allowed(
        httpx.Response(200, text=EVERYONE),
        "https://think.example/analysis/1",
        "https://think.example/private/2",
        "https://think.example/analysis/3",
    )
    assert results == [True, False, True]
    assert asked == 1


def test_a_group_for_our_product_token_replaces_the_general_one() -> None:
    results, _asked = _allowed(
        httpx.Response(200, text=OURS),
        "https://think.example/private/2",
        "https://think.example/no-watcher/3",
    )
    assert results == [True, False]


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(404, True), (410, True), (500, False), (503, False), (429, False)],
)
def test_what_a_host_without_readable_rules_means(status: int, allowed: bool) -> None:
    results, _asked = _allowed(httpx.Response(status), "https://think.example/analysis/1")
    assert results == [allowed]
