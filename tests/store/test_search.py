"""Search over titles and texts: SQLite FTS5 and PostgreSQL full text, the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import run_watcher, scalar, text_item, write_config
from watcher.search import SearchQuery, parse_query, search_terms
from watcher.store import Store
from watcher.store.db import open_engine

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


def _found(store: Store, query: str) -> list[int]:
    terms, phrases = parse_query(query)
    return sorted(hit.id for hit in store.search(SearchQuery(terms, phrases)))


def test_a_compound_written_with_a_middle_dot_is_found_without_it(store: Store) -> None:
    dotted = _add(store, "ko1", "분석", "북·러 정상회담 이후 한·미·일 협력이 주목된다.")
    letter_dot = _add(store, "ko2", "논평", "북ㆍ러 조약은 동맹에 가깝다.")
    japanese = _add(store, "ja1", "論評", "日・ロ関係は冷え込んでいる。")
    _add(store, "ko3", "다른 기사", "북한과 러시아가 따로 언급된다.")

    assert _found(store, "북러") == sorted([dotted, letter_dot])
    assert _found(store, "북·러") == sorted([dotted, letter_dot])
    assert _found(store, "한미일") == [dotted]
    assert _found(store, "日ロ関係") == [japanese]
    hits = store.search(SearchQuery(*parse_query("북러")))
    assert any("«" in hit.snippet for hit in hits), "the passage still shows what matched"


def test_a_quoted_query_is_a_phrase(store: Store) -> None:
    phrase = _add(store, "a", "Talks", "The liaison office in Kaesong was demolished in June.")
    apart = _add(store, "b", "Other", "An office of liaison opened; Kaesong stayed closed.")

    assert _found(store, "liaison office") == sorted([phrase, apart])
    assert _found(store, '"liaison office"') == [phrase]
    assert _found(store, '"liaison office" Kaesong') == [phrase]
    assert _found(store, '"office liaison"') == [], "a phrase keeps its order"
    assert _found(store, '"liaison offices"') == [phrase], "a phrase's words are stemmed too"


def test_an_item_changed_or_deleted_leaves_the_index_consistent(
    store: Store, database_url: str
) -> None:
    """The FTS5 'delete' must be given what was indexed, or the index is damaged."""
    item = _add(store, "ko1", "분석", "북·러 조약.")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE items SET text = :t WHERE id = :i"), {"t": "한·중 관계.", "i": item}
        )
    assert _found(store, "북러") == []
    assert _found(store, "한중") == [item]
    with engine.begin() as connection:
        for table in ("url_aliases", "paragraphs", "minhash_bands"):
            connection.execute(text(f"DELETE FROM {table} WHERE item_id = :i"), {"i": item})
        connection.execute(text("DELETE FROM items WHERE id = :i"), {"i": item})
        if engine.dialect.name == "sqlite":
            connection.execute(text("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')"))
    engine.dispose()
    assert _found(store, "한중") == []


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
    store.search(SearchQuery(*parse_query(query)))
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
    store = Store(open_engine(database_url))
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
