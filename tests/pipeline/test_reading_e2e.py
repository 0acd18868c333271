"""What the analyst reads, end to end: the right title, clean text, archive dates held
back, files a team can read, and failures said once and truly. Real pages of
../shared served by a real HTTP server, the CLI run as a user runs it, both databases."""

from __future__ import annotations

import json
import os
import random
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import (
    manifest_rows,
    query,
    read_page,
    run_watcher,
    scalar,
    shared_path,
    write_config,
)
from tests.services import free_port
from tests.site import FeedItem, Page, Site, article_html, recent, rss
from watcher.store import Store

KOREA = ("pages", "korea-related", "korea")
BLOOMBERG = (*KOREA, "html-cleaning-dataset-merged", "page-signal-master", "input")
BLOOMBERG_PAGE = "c98e6425-21c1-477c-8dab-c32c970a9779.html"
TABLE_LAYOUT = (*KOREA, "html-cleaning-dataset-merged", "cleaneval-final", "input", "435.html")
YONHAP = (*KOREA, "newspaper4k-tests", "tests", "data", "html", "yna_co_kr.html")
BODY = [
    "Seoul and Moscow agreed on Tuesday to reopen a direct line between their foreign"
    " ministries, the first such step since the war in Ukraine began.",
    "Officials in Pyongyang did not comment, but analysts said the move would test how far"
    " Russia is willing to balance its new alliance with North Korea against trade with"
    " the South.",
    "The South Korean foreign ministry said the line would be used for consular matters"
    " and for talks on the safety of South Korean citizens in Russia.",
]


def _corpus_titles(folder: Path) -> dict[str, str]:
    """First line (the title) of each new corpus file, by the URL the manifest gives."""
    rows = manifest_rows(folder)
    return {
        str(row["url"]): (folder / row["file"]).read_text(encoding="utf-8").split("\n", 1)[0]
        for row in rows
        if row["url"]
    }


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _config(tmp_path: Path, database_url: str, corpus: Path, sources: list[dict[str, object]],
            **tables: dict[str, object]) -> Path:  # fmt: skip
    storage = tables.pop("storage", None)
    return write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=corpus,
        sources=sources,
        storage=storage,
        tables=tables or None,
    )


def test_titles_come_from_the_feed_or_headline_and_table_furniture_is_dropped(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    bloomberg = site.add_page(
        Page("/bloomberg", read_page(shared_path(*BLOOMBERG, BLOOMBERG_PAGE)), "text/html")
    )
    yonhap = site.add_page(Page("/yonhap", read_page(shared_path(*YONHAP)), "text/html"))
    table = site.add_page(Page("/cfr", read_page(shared_path(*TABLE_LAYOUT)), "text/html"))
    generic = article_html("Seoul and Moscow reopen their hotline", BODY).replace(
        "<title>Seoul and Moscow reopen their hotline | Example Institute</title>",
        "<title>CMH Homepage</title>",
    )
    own = site.add_page(Page("/own", generic.encode()))
    envoy = "U.S. Envoy Arrives in North Korea to Inspect Nuclear Plant"
    items = [
        FeedItem(bloomberg, envoy, guid="b", published=recent()),
        FeedItem(yonhap, "", guid="y", published=recent()),  # the feed gives no title
        FeedItem(table, "", guid="t", published=recent()),
        FeedItem(own, "", guid="o", published=recent()),
    ]
    site.add_feed("/feed.xml", rss(items))
    config = _config(
        tmp_path,
        database_url,
        seed_corpus,
        [{"name": "Yonhap", "url": site.url("/feed.xml")}],
        storage={"file_all": True},
    )

    done = run_watcher("fetch", config=config)

    assert done.returncode == 0, done.stderr
    titles = _corpus_titles(seed_corpus)
    assert titles[bloomberg] == envoy, "a site-and-section <title> never beats the feed's"
    assert titles[yonhap] == (
        "N. Korea slams S. Korea for joint military drill, warns of consequences"
    ), "the site's name is cut from the <title>"
    assert titles[own] == "Seoul and Moscow reopen their hotline", "a generic <title> loses"
    own_file = next(p for p in seed_corpus.glob("*.txt") if p.read_text().startswith("Seoul"))
    assert own_file.read_text().split("\n")[1] == BODY[0], "the headline is not repeated"
    text = str(scalar(database_url, f"SELECT text FROM items WHERE url = '{table}'"))
    assert "Two years ago, Washington accused Pyongyang" in text
    lines = text.splitlines()
    assert not [line for line in lines if not line.replace("|", "").strip()], "empty table rows"
    assert not [line for line in lines if "Advanced Search" in line or "A daily guide" in line]
    assert "IRAN: Iranian Middle Class" not in text, "the sidebar of other headlines"


def _dated_rss(items: list[tuple[str, str, str | None]]) -> bytes:
    """RSS with pubDate strings exactly as given (a server's own format)."""
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>']
    for link, title, date in items:
        when = f"<pubDate>{date}</pubDate>" if date else ""
        parts.append(f"<item><title>{title}</title><link>{link}</link>{when}</item>")
    return ("".join(parts) + "</channel></rss>").encode()


def _dated_page(title: str, published: datetime) -> bytes:
    meta = f'<meta property="article:published_time" content="{published.isoformat()}">'
    return article_html(title, _own_text(title)).replace("<head>", f"<head>{meta}").encode()


def _own_text(seed: str) -> list[str]:
    """Paragraphs of words in an order of their own: no two pages are near-duplicates."""
    words = " ".join(BODY).split()
    random.Random(seed).shuffle(words)
    return [" ".join(words[start : start + 30]) + "." for start in range(0, len(words), 30)]


def test_an_archive_is_held_back_by_feed_dates_in_any_format_and_by_page_dates(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    old_links = [
        site.add_page(Page(f"/old/{n}", _dated_page(f"Old {n}", recent(900)))) for n in range(3)
    ]
    undated_old = site.add_page(Page("/undated-old", _dated_page("Undated old", recent(1200))))
    undated_new = site.add_page(Page("/undated-new", _dated_page("Undated new", recent(1))))
    fresh = site.add_page(Page("/fresh", _dated_page("Fresh", recent(1))))
    korea_now = (datetime.now(UTC) - timedelta(hours=3)).astimezone()
    items = [
        (link, f"Old {n}", f"Thu,28 Jul 2022 4:35:{n} GMT+9") for n, link in enumerate(old_links)
    ]
    items += [
        (undated_old, "Undated old", None),
        (undated_new, "Undated new", None),
        # the same lax format, recent: fetched
        (fresh, "Fresh", korea_now.strftime("%a,%d %b %Y %-H:%-M:%-S GMT+9")),
    ]
    site.add_feed("/feed.xml", _dated_rss(items))
    config = _config(
        tmp_path,
        database_url,
        seed_corpus,
        [{"name": "Archive", "url": site.url("/feed.xml"), "max_age_days": 30}],
        storage={"file_all": True},
    )

    done = run_watcher("fetch", config=config)

    assert done.returncode == 0, done.stderr
    assert site.requests_to("/old/") == [], "entries dated 2022 are not fetched"
    published = scalar(database_url, f"SELECT published FROM entries WHERE link = '{old_links[0]}'")
    assert str(published).startswith("2022-07-27 19:35:00"), "GMT+9 is nine hours ahead"
    outcomes = dict(query(database_url, "SELECT link, outcome FROM entries"))
    assert [outcomes[link] for link in old_links] == ["too_old"] * 3
    assert outcomes[undated_old] == "too_old", "the page's date decides when the feed has none"
    assert outcomes[undated_new] == "filed"
    assert outcomes[fresh] == "filed"
    assert set(_corpus_titles(seed_corpus)) == {undated_new, fresh}


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_new_files_get_the_mode_the_umask_gives(
    httpserver: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
    umask: int,
    mode: int,
) -> None:
    site = Site(httpserver)
    page = site.add_page(
        Page("/a", article_html("Seoul and Moscow reopen a hotline", BODY).encode())
    )
    site.add_feed("/feed.xml", rss([FeedItem(page, "Hotline", guid="a", published=recent())]))
    config = _config(
        tmp_path,
        database_url,
        seed_corpus,
        [{"name": "S", "url": site.url("/feed.xml")}],
        storage={"file_all": True},
        digest={"recipients": ["analyst@example.org"]},
    )
    preview = tmp_path / "digest.html"

    with _umask(umask):
        assert run_watcher("fetch", config=config).returncode == 0
        assert run_watcher("digest", "--preview", str(preview), config=config).returncode == 0

    new = [p for p in seed_corpus.glob("*.txt") if p.read_text().startswith("Seoul and Moscow")]
    assert len(new) == 1
    for path in (new[0], seed_corpus / "manifest.jsonl", preview):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name


def test_an_offline_machine_is_said_once_and_backs_off_no_source(
    seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    sources = [{"name": f"Site {n}", "url": f"http://{h}:{port}/feed"} for n, h in enumerate(hosts)]
    config = _config(tmp_path, database_url, seed_corpus, sources)

    runs = [run_watcher("fetch", config=config) for _ in range(3)]

    for done in runs:
        assert done.returncode == 1, "every source failed"
        assert done.stdout.count("seems offline") == 1, done.stdout
        assert "3 of 3 sources failed with connect" in done.stdout
        assert "FAILED connect" not in done.stdout, "not said once per source"
        assert done.stderr.count('"machine_offline"') == 1
    rows = query(database_url, "SELECT consecutive_failures, next_poll_at FROM sources")
    assert [failures for failures, _next in rows] == [0, 0, 0]
    soonest = datetime.now(UTC) + timedelta(minutes=16)
    for _failures, next_poll in rows:
        when = (
            next_poll if isinstance(next_poll, datetime) else datetime.fromisoformat(str(next_poll))
        )
        assert when.replace(tzinfo=when.tzinfo or UTC) < soonest, "polled again soon"


def test_one_source_down_is_still_that_sources_failure(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    site.add_feed("/feed.xml", rss([]))
    sources = [
        {"name": "Up", "url": site.url("/feed.xml")},
        {"name": "Down", "url": f"http://127.0.0.2:{free_port()}/feed"},
    ]
    config = _config(tmp_path, database_url, seed_corpus, sources)

    done = run_watcher("fetch", config=config)

    assert "offline" not in done.stdout
    assert "Down: FAILED connect" in done.stdout
    failures = dict(query(database_url, "SELECT name, consecutive_failures FROM sources"))
    assert failures == {"Up": 0, "Down": 1}


def test_entry_failures_are_grouped_and_name_the_underlying_kind(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    for n in range(6):
        httpserver.expect_request(f"/gone/{n}").respond_with_data("not found", status=404)
    gone = [
        FeedItem(site.url(f"/gone/{n}"), f"Gone {n}", guid=f"g{n}", published=recent())
        for n in range(6)
    ]
    unreachable = f"http://127.0.0.2:{free_port()}/article"
    items = [*gone, FeedItem(unreachable, "Elsewhere", guid="e", published=recent())]
    site.add_feed("/feed.xml", rss(items))
    config = _config(
        tmp_path,
        database_url,
        seed_corpus,
        [{"name": "Archive", "url": site.url("/feed.xml")}],
        digest={"recipients": ["analyst@example.org"]},
    )

    done = run_watcher("fetch", config=config)

    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith("Archive:")]
    assert len(said) == 2, done.stdout
    assert f"6 entries failed at {httpserver.host} (http_4xx), e.g." in said[0]
    assert "HTTP 404" in said[0]
    assert "http_4xx: http_4xx" not in done.stdout
    assert f"{unreachable}: connect: robots.txt unreadable" in said[1], "not 'robots'"
    assert "(will retry)" in said[1]
    assert done.stderr.count('"entries_failed"') == 2
    assert '"entry_failed"' not in done.stderr, "one line per entry only with -v"
    kind = scalar(database_url, f"SELECT error_kind FROM entries WHERE link = '{unreachable}'")
    assert kind == "connect"

    listed = run_watcher("sources", "list", config=config)
    status = json.loads(run_watcher("status", "--json", config=config).stdout)
    digest = run_watcher("digest", "--preview", "-", config=config)

    assert "1 (connect)" in listed.stdout, listed.stdout
    assert status["entries_waiting_by_source"] == {"Archive": 1}
    assert "Archive: 1 article waiting for another try (connect)" in digest.stdout, digest.stdout


def test_fetch_url_says_what_became_of_each_url(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(httpserver)
    off_beat = ["The city council approved a new bus timetable for the winter months."] * 4
    page = site.add_page(Page("/bus", article_html("Winter buses", off_beat).encode()))
    httpserver.expect_request("/missing").respond_with_data("not found", status=404)
    config = _config(tmp_path, database_url, seed_corpus, [])

    failed = run_watcher("fetch", "--url", site.url("/missing"), config=config)
    first = run_watcher("fetch", "--url", page, config=config)
    again = run_watcher("fetch", "--url", page, config=config)

    assert failed.returncode == 1, "every URL failed"
    assert "http_4xx: HTTP 404" in failed.stdout
    assert "http_4xx: http_4xx" not in failed.stdout
    assert first.returncode == 0, first.stdout
    item = scalar(database_url, "SELECT id FROM items WHERE NOT is_seed")
    assert f"already item {item} (not relevant, " in again.stdout, again.stdout
    assert f"`watcher items mark {item} relevant` files it" in again.stdout


def test_the_atom_export_is_ordered_by_publication_date(
    store: Store, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    from tests.conftest import text_item

    now = datetime.now(UTC)
    base = "Seoul and Moscow reopened the hotline, said the ministry of foreign affairs. " * 8
    for name, published, fetched in [
        ("Old", now - timedelta(days=20), now),
        ("New", now - timedelta(days=1), now - timedelta(hours=5)),
        ("Undated", None, now - timedelta(days=3)),
    ]:
        url = f"https://e.org/{name}"
        item = text_item(url, base + name, title=name, published=published, fetched=fetched)
        store.add_item(item)
    config = _config(tmp_path, database_url, seed_corpus, [])

    done = run_watcher("export", "atom", config=config)

    assert done.returncode == 0, done.stderr
    titles = [entry.title for entry in feedparser.parse(done.stdout).entries]
    assert titles == ["New", "Undated", "Old"]


def test_help_wraps_whole_sentences_and_names_the_environment_variable() -> None:
    done = run_watcher("--help", env={"COLUMNS": "200"})

    assert done.returncode == 0
    assert "Configuration file ." not in done.stdout
    assert "$WATCHER_CONFIG" in done.stdout
    # One line per command at this width: the docstring's own line breaks are not kept.
    assert (
        "entries waiting and, in a scaled-out deployment, queue depth, jobs per state"
        in done.stdout
    )
