"""The store's memory of stored texts' passages: bounded, least recently used out."""

from __future__ import annotations

from watcher.store._base import RecentlyUsed


def test_the_least_recently_used_value_goes_first() -> None:
    memory: RecentlyUsed[str, str] = RecentlyUsed(2)
    assert memory.peek("a") is None
    assert memory.put("a", "A") == "A"
    memory.put("b", "B")
    assert memory.peek("a") == "A", "a kept value is found"
    memory.put("c", "C")
    assert memory.peek("b") is None, "b, the least recently used, went when c came"
    assert (memory.peek("a"), memory.peek("c")) == ("A", "C")


def test_putting_a_kept_key_again_replaces_its_value_and_keeps_the_bound() -> None:
    memory: RecentlyUsed[str, str] = RecentlyUsed(2)
    memory.put("a", "A")
    memory.put("b", "B")
    memory.put("a", "A2")
    memory.put("c", "C")
    assert memory.peek("a") == "A2"
    assert memory.peek("b") is None
