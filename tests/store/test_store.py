"""Storage rules: what counts as known, retry backoff, the near-duplicate index, and
migrations, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, text
from sqlmodel import SQLModel

from tests.conftest import scalar, text_item
from watcher.config import SourceConfig
from watcher.dedup.neardup import NearDupRule, Passage
from watcher.dedup.urls import url_hash
from watcher.errors import StoreError
from watcher.pipeline.filer import CorpusFiler
from watcher.store import (
    MAX_ATTEMPTS,
    EntryStatus,
    FileNumberTaken,
    NewEntry,
    Store,
    db,
    retry_delay,
)
from watcher.store._items import _Found
from watcher.store._rows import BOILERPLATE_ITEMS, NEAR_CANDIDATES
from watcher.store.db import (
    HEAD,
    current_revision,
    ensure_current,
    head_revision,
    open_engine,
    upgrade,
)

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


def test_a_new_database_left_half_made_is_empty_and_made_at_the_next_open(
    database_url: str,
) -> None:
    """A process killed while it makes a new database (here: a statement failing after
    five tables were made) leaves no tables behind, so the next start makes the schema
    instead of refusing "tables but no watcher schema version"."""
    engine = open_engine(database_url, migrate=False)
    made: list[str] = []

    def fail_after_five(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            made.append(statement)
            if len(made) > 5:
                raise RuntimeError("killed")

    event.listen(engine, "before_cursor_execute", fail_after_five)
    try:
        with pytest.raises(StoreError, match="killed"):
            upgrade(engine)
    finally:
        event.remove(engine, "before_cursor_execute", fail_after_five)
    assert len(made) == 6
    assert current_revision(engine) is None
    assert not sqlalchemy.inspect(engine).get_table_names()
    engine.dispose()
    again = open_engine(database_url)
    try:
        assert current_revision(again) == HEAD
    finally:
        again.dispose()


def test_a_schema_made_by_another_process_while_this_one_looks_is_accepted(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three services starting on one new database: another process makes the schema
    between this one's two reads (the version, the tables). It must start, not refuse
    "tables but no watcher schema version"."""
    engine = open_engine(database_url, migrate=False)
    other = open_engine(database_url, migrate=False)
    real = db.current_revision

    def then_the_other_makes_it(target: Engine) -> str | None:
        found = real(target)
        if found is None and not sqlalchemy.inspect(other).get_table_names():
            upgrade(other)
        return found

    monkeypatch.setattr(db, "current_revision", then_the_other_makes_it)
    try:
        ensure_current(engine)
        assert real(engine) == HEAD
    finally:
        engine.dispose()
        other.dispose()


def _story(seed: int, words: int = 300) -> str:
    """A text of its own: ``seed`` picks the words, so two seeds share almost none."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(5000)]
    sentences = [" ".join(rng.choices(vocabulary, k=15)) + "." for _ in range(words // 15)]
    return "\n".join(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))


def test_a_near_copy_is_found_and_the_first_seen_item_wins(store: Store) -> None:
    story = _story(1)
    first = store.add_item(text_item("https://a.example/1", story))
    store.add_item(text_item("https://b.example/2", _story(2)))
    store.add_item(text_item("https://c.example/3", story + "\nA later copy's note."))
    copy = "Republished with permission.\n" + story.replace("w1 ", "w2 ", 3)
    assert store.find_original([], store.dedup.fingerprint(copy)) == first
    assert store.find_original([], store.dedup.fingerprint(_story(3))) is None


def test_a_known_address_wins_over_the_same_text_and_the_first_stored_one_wins(
    store: Store,
) -> None:
    """One statement finds an article by its URLs, its text, its LSH keys and its
    paragraphs: a URL found is the answer before the text, and of two URLs found, the
    article stored first."""
    first = store.add_item(text_item("https://a.example/1", _story(1)))
    second = store.add_item(text_item("https://b.example/2", _story(2)))
    fingerprint = store.dedup.fingerprint
    by_url = [url_hash("https://b.example/2")]
    assert store.find_original(by_url, fingerprint(_story(1))) == second
    both = [url_hash("https://b.example/2"), url_hash("https://a.example/1")]
    assert store.find_original(both, fingerprint(_story(3))) == first
    assert store.find_original([], fingerprint(_story(1))) == first
    assert store.find_original([url_hash("https://c.example/3")], fingerprint(_story(3))) is None


def test_candidates_are_ranked_by_shared_keys_and_furniture_proposes_none() -> None:
    """The lookup's rows (kind, item, paragraph): LSH keys and distinctive paragraphs each
    vote for their item, most votes first, then the oldest; a paragraph that many stored
    items share (a disclaimer) votes for none of them."""
    rows: list[tuple[int, int, str | None]] = [(2, 7, None), (2, 7, None), (2, 5, None)]
    rows += [(3, 5, "own"), (3, 9, "other")]
    shared = [(3, item, "disclaimer") for item in range(100, 100 + BOILERPLATE_ITEMS)]
    assert _Found.of(rows + shared).ranked() == [5, 7, 9]
    fewer = shared[: BOILERPLATE_ITEMS - 1]
    assert _Found.of(rows + fewer).ranked() == [5, 7, 9, *(item for _k, item, _h in fewer)]
    many = [(2, item, None) for item in range(1000, 1000 + 2 * NEAR_CANDIDATES)]
    assert len(_Found.of(rows + many).ranked()) == NEAR_CANDIDATES


def test_the_index_is_rekeyed_when_its_parameters_change(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        store = Store(engine)
        assert store.ensure_near_index() == 0, "an empty database has nothing to key"
        ids = [store.add_item(text_item(f"https://a.example/{i}", _story(i))) for i in range(3)]
        assert store.ensure_near_index() == 0, "keys made under the same rule stand"

        other = Store(engine, NearDupRule(bands=8, rows=4))
        assert other.ensure_near_index() == 3
        assert scalar(database_url, "SELECT count(*) FROM minhash_bands") == 3 * 8
        copy = _story(1) + "\nThis article first appeared elsewhere."
        assert other.find_original([], other.dedup.fingerprint(copy)) == ids[1]
        assert other.ensure_near_index() == 0
    finally:
        engine.dispose()


def test_a_database_from_before_the_index_is_keyed_on_first_use(tmp_path: Path) -> None:
    """Made at 0002 (no near-duplicate index) with an item in it: after the upgrade, the
    first start keys it, and a light copy of its text is recognised."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url, migrate=False)
    upgrade(engine, "0002")
    story = _story(7)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO items (key, is_seed, text, text_hash, n_paragraphs, authors,"
                " relevant, score, labels, evidence, file_missing)"
                " VALUES ('0123456789abcdef', 0, :text, 'h', 0, '[]', 1, 0.9, '[]', '[]', 0)"
            ),
            {"text": story},
        )
    upgrade(engine)
    store = Store(engine)
    try:
        assert store.ensure_near_index() == 1
        copy = "A new headline\n" + story + "\nFirst appeared at the Institute."
        assert store.find_original([], store.dedup.fingerprint(copy)) == 1
    finally:
        store.close()


def _not_search(name: str | None, kind: str, _parents: object) -> bool:
    """The search index (FTS5 tables, a generated tsvector column and its index,
    migration 0007) and the inbox's expression index (0012) are the database's own: no
    model describes them."""
    name = name or ""
    if kind == "table":
        return not name.startswith("items_fts")
    return name not in ("search", "ix_items_search", "ix_items_inbox")


# SQLAlchemy cannot reflect SQLite's expression index, and says so; no model describes it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrations_make_the_schema_the_models_describe(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": _not_search})
            drift = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert drift == []


def test_the_head_a_database_is_checked_against_is_alembics() -> None:
    """``open_engine`` compares a database's revision with ``HEAD`` without loading
    Alembic: a migration added without moving ``HEAD`` would refuse every database."""
    assert head_revision() == HEAD


def test_marks_made_before_user_labels_existed_give_them_on_upgrade(database_url: str) -> None:
    """Migration 0011 fills items.user_labels from each item's latest mark: its ties
    with "relevant", none with "irrelevant", the classifier's (NULL) when none given."""
    engine = open_engine(database_url, migrate=False)
    try:
        upgrade(engine, "0010")
        with engine.begin() as connection:
            for key in ("a", "b", "c"):
                connection.execute(
                    text(
                        "INSERT INTO items (key, is_seed, text, text_hash, n_paragraphs,"
                        " authors, relevant, score, labels, evidence, file_missing, tie_scores)"
                        " VALUES (:key, false, 't', 'h', 0, '[]', true, 0.9,"
                        " '[\"russia-nk\"]', '[]', false, '{}')"
                    ),
                    {"key": key * 16},
                )
            for item, mark, labels in (
                (1, "irrelevant", "[]"),
                (1, "relevant", '["inter-korean"]'),  # the latest counts
                (2, "irrelevant", "[]"),
                (3, "relevant", "[]"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO marks (item_id, mark, labels, created)"
                        " VALUES (:item, :mark, :labels, :created)"
                    ),
                    {"item": item, "mark": mark, "labels": labels, "created": datetime.now(UTC)},
                )
        upgrade(engine)
        store = Store(engine)
        found = [store.find_item(str(n)) for n in (1, 2, 3)]
        assert [item.ties if item else None for item in found] == [
            ("inter-korean",),
            (),
            ("russia-nk",),
        ]
    finally:
        engine.dispose()


class _CountingRule(NearDupRule):
    """The default rule, counting the stored texts it reads and shingles."""

    __slots__ = ("shingled",)

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "shingled", [])

    def passage(self, text: str, title: str | None) -> Passage:
        self.shingled.append(text)  # type: ignore[attr-defined]
        return super().passage(text, title)


def test_a_stored_text_is_shingled_once_and_not_at_all_when_its_passage_is_given(
    database_url: str,
) -> None:
    rule = _CountingRule()
    store = Store(open_engine(database_url), rule)
    try:
        story, other = _story(1), _story(2)
        first = store.add_item(text_item("https://a.example/1", story))
        copy = "Republished with permission.\n" + story
        fingerprint, passage = rule.read(copy, None)
        assert store.find_original([], fingerprint, passage) == first
        assert store.find_original([], fingerprint, passage) == first
        assert rule.shingled == [story], "the stored text was read once, then kept"  # type: ignore[attr-defined]

        second = store.add_item(text_item("https://b.example/2", other))
        fingerprint, passage = rule.read(other, None)
        store.remember_passage(second, fingerprint.text_hash, passage)
        again, again_passage = rule.read("Via our partners.\n" + other, None)
        assert store.find_original([], again, again_passage) == second
        assert rule.shingled == [story], "a passage given at store time is not made again"  # type: ignore[attr-defined]
    finally:
        store.close()


_KEY_TABLES = ("paragraphs", "minhash_bands", "url_aliases")


def _two_entries(store: Store) -> tuple[int, int]:
    state = store.sync_sources([SourceConfig(name="S", url="https://s.example/feed")])[
        "https://s.example/feed"
    ]
    return _add(store, state.id, "a", "ha"), _add(store, state.id, "b", "hb")


def test_calls_in_one_transaction_commit_together_or_not_at_all(
    store: Store, database_url: str
) -> None:
    first, second = _two_entries(store)
    original = text_item("https://a.example/1", _story(1))

    def settle_then_fail() -> None:
        with store.one_transaction():
            stored = store.store_item(original, first, outcome="filed", now=NOW, file_number=1)
            assert stored is not None
            store.record_duplicate(second, stored[0], ["https://b.example/1"], None, NOW)
            raise RuntimeError("the settle step failed after its writes")

    with pytest.raises(RuntimeError, match="after its writes"):
        settle_then_fail()
    assert scalar(database_url, "SELECT count(*) FROM items") == 0
    assert scalar(database_url, "SELECT count(*) FROM entries WHERE state = 'done'") == 0

    with store.one_transaction():
        stored = store.store_item(original, first, outcome="filed", now=NOW, file_number=1)
        assert stored is not None
        store.record_duplicate(second, stored[0], ["https://b.example/1"], None, NOW)
    assert scalar(database_url, "SELECT count(*) FROM entries WHERE state = 'done'") == 2
    assert scalar(database_url, f"SELECT count(*) FROM entries WHERE item_id = {stored[0]}") == 2
    counts = [scalar(database_url, f"SELECT count(*) FROM {table}") for table in _KEY_TABLES]
    expected = [len(set(original.paragraph_hashes)), len(set(original.bands)), 2]
    assert counts == expected, "the article is found by its paragraphs, LSH keys and URLs"
    assert store.items_by_url([url_hash("https://b.example/1")]) == {
        url_hash("https://b.example/1"): stored[0]
    }


def test_a_taken_file_number_ends_one_transaction_and_is_passed_over_outside_one(
    store: Store, database_url: str
) -> None:
    first, second = _two_entries(store)
    earlier = text_item("https://a.example/1", _story(1))
    store.store_item(earlier, first, outcome="filed", now=NOW, file_number=7)
    later = text_item("https://b.example/2", _story(2))

    def store_under_seven() -> None:
        with store.one_transaction():
            store.store_item(later, second, outcome="filed", now=NOW, file_number=7)

    with pytest.raises(FileNumberTaken):
        store_under_seven()
    assert scalar(database_url, "SELECT count(*) FROM items") == 1, "nothing of it stored"

    stored = store.store_item(later, second, outcome="filed", now=NOW, file_number=7)
    assert stored is not None
    assert stored[1] == f"008_{later.key}.txt"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_plans_each_statement_for_its_parameters(store: Store) -> None:
    """A generic plan made while the tables were empty kept the paragraph lookup a
    sequential scan on a new database."""
    with store.engine.connect() as connection:
        assert connection.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_stores_an_article_and_closes_its_entry_in_one_statement(
    store: Store,
) -> None:
    first, _second = _two_entries(store)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.one_transaction():
            stored = store.store_item(
                text_item("https://a.example/1", _story(1)),
                first,
                outcome="recorded",
                now=NOW,
                file_number=None,
            )
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert stored is not None
    assert len(statements) == 1, statements
    assert statements[0].lstrip().startswith("WITH item AS")


def test_a_filer_told_its_number_was_taken_proposes_above_the_databases_highest(
    store: Store, tmp_path: Path
) -> None:
    (first, _second) = _two_entries(store)
    earlier = text_item("https://a.example/1", _story(1))
    store.store_item(earlier, first, outcome="filed", now=NOW, file_number=41)
    filer = CorpusFiler(tmp_path, store, write_files=True)
    assert filer.next_number() == 0, "numbers start at 0 in an empty folder"
    filer.number_taken()
    assert filer.next_number() == 42
