"""Search over titles and texts: SQLite FTS5 and PostgreSQL full text, the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_watcher, scalar, text_item, write_config
from watcher.search import SearchQuery, search_terms
from watcher.store import Store

NOW = datetime(2026, 11, 22, tzinfo=UTC)
FILLER = " Analysts in several capitals followed the talks closely and wrote about them." * 4


def _add(store: Store, name: str, title: str, body: str, **changes: object) -> int:
    return store.add_item(
        text_item(f"https://example.org/{name}", body + FILLER, title=title, **changes)
    )


def _ids(store: Store, query: str, **filters: object) -> list[int]:
    return [hit.id for hit in store.search(SearchQuery(search_terms(query), **filters))]  # type: ignore[arg-type]


def test_words_in_titles_rank_above_words_in_texts(store: Store) -> None:
    in_text = _add(store, "a", "A quiet week", "The hotline between the two Koreas rang again.")
    in_title = _add(store, "b", "The hotline is back", "Officials said little more.")
    _add(store, "c", "Unrelated", "Nothing about telephones here.")

    hits = store.search(SearchQuery(search_terms("hotline")))

    assert [hit.id for hit in hits] == [in_title, in_text]
    assert "«hotline»" in hits[1].snippet.lower()


def test_korean_and_russian_words_are_found_as_users_type_them(store: Store) -> None:
    topic = _add(store, "ko1", "대북 정책", "북한은 오늘 남북 연락사무소를 폭파했다.")
    genitive = _add(store, "ko2", "분석", "북한의 미사일 발사에 대한 분석이다.")
    russia = _add(store, "ru1", "Москва и Пхеньян", "Визит в России прошёл успешно.")
    russia2 = _add(store, "ru2", "Договор", "Россия подписала договор с КНДР.")

    assert sorted(_ids(store, "북한")) == sorted([topic, genitive])
    assert sorted(_ids(store, "북한은")) == sorted([topic, genitive]), "a particle is no word"
    assert sorted(_ids(store, "Россия")) == sorted([russia, russia2])
    assert sorted(_ids(store, "России")) == sorted([russia, russia2])
    assert _ids(store, "Пхеньян договор") == [], "every word is required"
    assert _ids(store, "КНДР договор") == [russia2]


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE items; --",
        '"unclosed quote',
        "title:hotline OR NOT x*",
        "NEAR(hotline talks, 3)",
        "hotline & !talks | (x:*",
        "\\ % _ ' \" ; -- /* */",
        "",
    ],
)
def test_a_query_is_data_never_syntax(store: Store, database_url: str, query: str) -> None:
    _add(store, "a", "The hotline is back", "Officials said little more.")
    store.search(SearchQuery(search_terms(query)))  # raises nothing
    assert scalar(database_url, "SELECT count(*) FROM items") == 1


def test_filters_by_tie_source_and_date(store: Store) -> None:
    old = _add(
        store, "o", "Hotline history", "The hotline of 1971.", published=NOW - timedelta(days=90)
    )
    tie = _add(store, "t", "Hotline now", "The hotline today.", labels=("inter-korean",))
    other = _add(store, "s", "Hotline elsewhere", "A hotline.", source_name="Other")

    assert set(_ids(store, "hotline")) == {old, tie, other}
    assert _ids(store, "hotline", label="inter-korean") == [tie]
    assert _ids(store, "hotline", source="Other") == [other]
    since = NOW - timedelta(days=30)
    assert set(_ids(store, "hotline", since=since)) == {tie, other}, "undated: when found"


def test_the_index_follows_changed_texts(store: Store) -> None:
    item = _add(store, "a", "First title", "About balloons over the border.")
    assert _ids(store, "balloons") == [item]
    store.update_seed_text(item, "About loudspeakers now." + FILLER, [])
    assert _ids(store, "balloons") == []
    assert _ids(store, "loudspeakers") == [item]


def test_the_search_command(tmp_path: Path, database_url: str) -> None:
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=tmp_path / "c", sources=[]
    )
    store = Store(__import__("watcher.db", fromlist=["open_engine"]).open_engine(database_url))
    try:
        _add(store, "a", "Seoul and Moscow", "Trade between Seoul and Moscow fell.")
    finally:
        store.close()

    found = run_watcher("items", "search", "moscow", config=config)
    none = run_watcher("items", "search", "pyongyang", config=config)
    empty = run_watcher("items", "search", "'; --", config=config)

    assert found.returncode == 0, found.stderr
    assert "Seoul and Moscow" in found.stdout
    assert "«Moscow»" in found.stdout
    assert none.returncode == 1
    assert "nothing found" in none.stdout
    assert empty.returncode == 2
    assert "no words to search for" in empty.stderr
