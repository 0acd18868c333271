"""robots.txt: what each answer of a host means, and that it is asked once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from watcher.config import HttpConfig
from watcher.fetch.http import Fetcher
from watcher.fetch.robots import Refusal, RobotsCache

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
                results.append(await cache.refusal(fetcher, url) is None)
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


def test_unreadable_rules_refuse_for_now_but_keep_the_entry_for_a_later_try() -> None:
    async def check() -> tuple[object, object]:
        cache = RobotsCache()
        outage = httpx.MockTransport(lambda _request: httpx.Response(503))
        rules = httpx.MockTransport(lambda _request: httpx.Response(200, text=EVERYONE))
        async with Fetcher(CONFIG, transport=outage) as fetcher:
            unreadable = await cache.refusal(fetcher, "https://think.example/analysis/1")
        async with Fetcher(CONFIG, transport=rules) as fetcher:
            refused = await RobotsCache().refusal(fetcher, "https://think.example/private/1")
        return unreadable, refused

    unreadable, refused = asyncio.run(check())
    assert isinstance(unreadable, Refusal)
    assert unreadable.retry
    assert "http_5xx" in unreadable.reason
    assert isinstance(refused, Refusal)
    assert not refused.retry
