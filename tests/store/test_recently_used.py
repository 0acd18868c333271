"""The store's memory of stored texts' passages: computed once, bounded, least used out."""

from __future__ import annotations

from collections.abc import Callable

from watcher.store._base import RecentlyUsed


def test_a_value_is_made_once_and_the_least_recently_used_goes_first() -> None:
    made: list[str] = []

    def maker(key: str) -> Callable[[], str]:
        def make() -> str:
            made.append(key)
            return key.upper()

        return make

    memory: RecentlyUsed[str, str] = RecentlyUsed(2)
    assert memory.get("a", maker("a")) == "A"
    assert memory.get("b", maker("b")) == "B"
    assert memory.get("a", maker("a")) == "A"
    assert made == ["a", "b"], "a kept value is not made again"
    memory.get("c", maker("c"))
    memory.get("a", maker("a"))
    memory.get("b", maker("b"))
    assert made == ["a", "b", "c", "b"], "b, the least recently used, went when c came"
