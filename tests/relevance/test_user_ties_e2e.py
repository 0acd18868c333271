"""The ties a user gives with a mark win everywhere their verdict does, and `watcher
classify` with the database says what the pipeline says. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import feed_config, manifest_by_file, query, run_watcher, scalar
from tests.site import Site, article_items
from watcher.relevance.classify import KeywordClassifier

TROOPS = "pen0-2024-12-04-north-korean-troops-in-russia"  # russia-nk
LIAISON = "eco20-2020-06-20-liaison-office"  # inter-korean


def _fetched(server: HTTPServer, corpus: Path, database_url: str, tmp_path: Path) -> Path:
    site = Site(server)
    url = site.add_feed("/feed.xml", _rss(site))
    config = feed_config(tmp_path, database_url=database_url, corpus=corpus, feed=url)
    assert run_watcher("fetch", config=config).returncode == 0
    return config


def _rss(site: Site) -> bytes:
    from tests.site import rss

    return rss(article_items(site, "/a", [TROOPS, LIAISON]))


def _table(printed: str) -> list[list[str]]:
    """The cells of each row of a table rich printed."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in printed.splitlines()
        if line.startswith("│")
    ]


def _item(database_url: str, article: str) -> int:
    return int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{article}'")))


def test_the_users_ties_win_in_manifest_digest_atom_list_and_search(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = _fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops, liaison = _item(database_url, TROOPS), _item(database_url, LIAISON)
    labels = dict(query(database_url, f"SELECT id, labels FROM items WHERE id = {troops}"))
    assert "russia-sk" in str(labels[troops]), "the classifier gives it more ties than one"

    marked = run_watcher(
        "items", "mark", str(troops), "relevant", "--label", "russia-nk", config=config
    )
    assert marked.returncode == 0, marked.stderr
    refused = run_watcher("items", "mark", str(liaison), "irrelevant", config=config)
    assert refused.returncode == 0, refused.stderr

    by_url = {row["url"]: row for row in manifest_by_file(seed_corpus).values()}
    troops_url = str(scalar(database_url, f"SELECT url FROM items WHERE id = {troops}"))
    assert by_url[troops_url]["labels"] == ["russia-nk"]
    assert by_url[troops_url]["user_mark"] == "relevant"

    wanted = run_watcher("export", "atom", "--label", "russia-nk", config=config)
    assert troops_url in wanted.stdout
    other = run_watcher("export", "atom", "--label", "russia-sk", config=config)
    assert other.returncode == 0, other.stderr
    assert troops_url not in other.stdout

    listed = run_watcher("items", "list", "--all", config=config, env={"COLUMNS": "250"})
    rows = {cells[0]: cells for cells in _table(listed.stdout)}
    assert rows[str(troops)][2:4] == ["relevant", "russia-nk"]
    assert rows[str(liaison)][2:4] == ["not relevant", ""]
    assert len(rows[str(troops)][1]) == len("0.123"), "scores to three decimals"

    found = run_watcher("items", "search", "troops", "--label", "russia-nk", config=config)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith(f"{troops} ")
    gone = run_watcher("items", "search", "troops", "--label", "russia-sk", config=config)
    assert gone.returncode == 1, "a tie only the classifier gave no longer finds it"
    unmarked = run_watcher("items", "search", "liaison", "--label", "inter-korean", config=config)
    assert unmarked.returncode == 1, "marked irrelevant: no tie"

    digest = run_watcher("digest", "--since", "2000-01-01", "--preview", "-", config=config)
    assert digest.returncode == 0, digest.stderr
    text = digest.stdout
    section = text.index("Russia\N{EN DASH}North Korea")
    title = str(scalar(database_url, f"SELECT title FROM items WHERE id = {troops}"))
    assert text.index(title) > section
    assert "Russia\N{EN DASH}South Korea" not in text


def test_classify_with_the_database_gives_the_pipelines_verdict(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = _fetched(threaded_server, seed_corpus, database_url, tmp_path)
    liaison = _item(database_url, LIAISON)
    assert run_watcher("items", "mark", str(liaison), "irrelevant", config=config).returncode == 0
    assert run_watcher("items", "reclassify", config=config).returncode == 0
    ((title, text, score),) = query(
        database_url, f"SELECT title, text, score FROM items WHERE id = {liaison}"
    )
    line = json.dumps({"id": "x", "title": title, "text": text})

    taught = run_watcher("classify", "--jsonl", "-", stdin=line, config=config)
    shipped = run_watcher("classify", "--shipped", "--jsonl", "-", stdin=line, config=config)

    assert taught.returncode == 0, taught.stderr
    assert json.loads(taught.stdout)["score"] == score
    alone = KeywordClassifier(0.5).classify(str(title), str(text), None)
    assert json.loads(shipped.stdout)["score"] == alone.score
    assert alone.score != score, "the mark moved the pipeline's verdict"
