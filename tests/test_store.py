"""Storage rules: what counts as known, retry backoff, migrations on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from watcher.config import SourceConfig
from watcher.db import current_revision, head_revision, open_engine, upgrade
from watcher.store import MAX_ATTEMPTS, EntryStatus, NewEntry, Store, retry_delay

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def _entry(key: str, url_hash: str) -> NewEntry:
    return NewEntry(key, None, f"https://x.example/{key}", url_hash, None, None, None, NOW)


def _add(store: Store, source_id: int, key: str, url_hash: str) -> int:
    return store.add_entries(source_id, [_entry(key, url_hash)])[key]


def _status(store: Store, source_id: int, key: str, url_hash: str) -> EntryStatus | None:
    return store.entry_index(source_id, [key], [url_hash], NOW).lookup(key, url_hash)


def test_schema_is_at_head_after_open(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    open_engine(database_url).dispose()  # a second start migrates nothing and does not fail


def test_retry_delay_backs_off_to_a_day() -> None:
    assert retry_delay(1) == timedelta(0)
    assert retry_delay(2) == timedelta(minutes=15)
    assert retry_delay(3) == timedelta(minutes=30)
    assert retry_delay(20) == timedelta(days=1)


def test_only_done_and_permanent_failures_are_known(store: Store) -> None:
    state = store.sync_sources([SourceConfig(name="S", url="https://s.example/feed")])[
        "https://s.example/feed"
    ]
    a = _add(store, state.id, "a", "ha")
    b = _add(store, state.id, "b", "hb")
    c = _add(store, state.id, "c", "hc")
    store.mark_entry_done(a, outcome="recorded", now=NOW)
    assert store.mark_entry_failed(b, "http_5xx", "HTTP 503", transient=True, now=NOW) is False
    assert store.mark_entry_failed(c, "http_4xx", "HTTP 404", transient=False, now=NOW) is True

    assert _status(store, state.id, "a", "x").known  # type: ignore[union-attr]
    assert _status(store, state.id, "c", "x").known  # type: ignore[union-attr]
    pending = _status(store, state.id, "b", "x")
    assert pending is not None
    assert not pending.known
    assert pending.due
    assert _status(store, state.id, "other-guid", "ha").known, "same link, new guid"  # type: ignore[union-attr]
    assert [p.id for p in store.due_retries(state.id, NOW, ())] == [b]

    store.mark_entry_failed(b, "http_5xx", "HTTP 503", transient=True, now=NOW)
    assert store.due_retries(state.id, NOW, ()) == [], "second failure waits 15 minutes"
    assert len(store.due_retries(state.id, NOW + timedelta(minutes=16), ())) == 1


def test_transient_failures_are_given_up_after_max_attempts(store: Store) -> None:
    state = store.sync_sources([SourceConfig(name="S", url="https://s.example/feed")])[
        "https://s.example/feed"
    ]
    entry = _add(store, state.id, "a", "ha")
    results = [
        store.mark_entry_failed(entry, "timeout", "t", transient=True, now=NOW)
        for _ in range(MAX_ATTEMPTS)
    ]
    assert results == [False] * (MAX_ATTEMPTS - 1) + [True]


def test_second_insert_of_an_entry_is_a_no_op(store: Store) -> None:
    state = store.sync_sources([SourceConfig(name="S", url="https://s.example/feed")])[
        "https://s.example/feed"
    ]
    first = _add(store, state.id, "a", "ha")
    assert _add(store, state.id, "a", "ha") == first
    assert _status(store, state.id, "a", "ha") is not None


def test_renaming_a_source_keeps_its_row(store: Store) -> None:
    url = "https://s.example/feed"
    before = store.sync_sources([SourceConfig(name="Old", url=url)])[url]
    after = store.sync_sources([SourceConfig(name="New", url=url)])[url]
    assert (before.id, after.name) == (after.id, "New")


def test_a_database_made_at_the_first_revision_upgrades_with_its_data(tmp_path: Path) -> None:
    """Databases made by earlier versions upgrade cleanly (here: 0001 with an item)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url, migrate=False)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO items (key, is_seed, text, text_hash, n_paragraphs, authors,"
                " relevant, score, labels, evidence, file_missing)"
                " VALUES ('0123456789abcdef', 0, 'old text', 'h', 0, '[]', 1, 0.9, '[]', '[]', 0)"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine)
    try:
        assert store.find_item("1") is not None
        assert store.model_version() == 0
    finally:
        store.close()
