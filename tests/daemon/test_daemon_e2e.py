"""``watcher run`` as a user runs it: a real process, a real server, real signals."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import DBAPIError
from werkzeug import Response

from tests.conftest import query, run_watcher, shared_path, write_config
from tests.services import (
    DEADLINE,
    allow_connections,
    aware,
    free_port,
    get_text,
    new_files,
    running_daemon,
    stop,
    wait_for,
)
from tests.site import (
    FeedItem,
    Page,
    Site,
    article_html,
    article_items,
    recent,
    relevance_articles,
    rss,
)
from watcher.services.lock import LOCK_NAME

ARTICLES = ["eco20-2020-06-20-liaison-office", "pen0-2024-12-04-north-korean-troops-in-russia"]
FAST = {"schedule": {"check_seconds": 0.2}}


def _feed(site: Site, path: str, article_ids: list[str]) -> str:
    return site.add_feed(f"{path}.xml", rss(article_items(site, path, article_ids)))


def test_run_polls_on_schedule_files_and_stops_cleanly(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    feed = _feed(site, "/think-tank", ARTICLES)
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Think tank", "url": feed, "interval_minutes": 60}],
        tables=FAST,
    )
    with running_daemon(config) as daemon:
        wait_for(lambda: len(new_files(seed_corpus)) == 2, "both articles filed")
        time.sleep(1.0)  # five more ticks: the source is not due again for an hour
        code, events = stop(daemon)

    assert code == 0
    names = [event["event"] for event in events]
    assert "daemon_started" in names
    assert names[-1] == "daemon_stopped"
    assert site.requests_to("/think-tank.xml") == ["/think-tank.xml"], "polled once"
    ((next_poll, interval),) = query(
        database_url, "SELECT next_poll_at, interval_seconds FROM sources"
    )
    assert interval == 45 * 60, "new entries shortened the hour by a quarter"
    assert aware(next_poll) > datetime.now(UTC)
    manifest = (seed_corpus / "manifest.jsonl").read_text(encoding="utf-8")
    assert all(p.name in manifest for p in new_files(seed_corpus))


def test_health_and_metrics_are_served_when_configured(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    feed = _feed(site, "/think-tank", ARTICLES[:1])
    threaded_server.expect_request("/broken.xml").respond_with_response(Response(status=503))
    port = free_port()
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Good", "url": feed}, {"name": "Bad", "url": site.url("/broken.xml")}],
        tables={**FAST, "daemon": {"listen": f"127.0.0.1:{port}"}},
    )
    base = f"http://127.0.0.1:{port}"
    with running_daemon(config) as daemon:
        wait_for(lambda: len(new_files(seed_corpus)) == 1, "the article filed")
        wait_for(lambda: get_text(f"{base}/healthz") is not None, "the endpoint answers")
        wait_for(lambda: '"passes": 1' in str(get_text(f"{base}/healthz")), "a pass counted")
        health = httpx.get(f"{base}/healthz")
        metrics = httpx.get(f"{base}/metrics").text
        missing = httpx.get(f"{base}/nothing")
        code, _events = stop(daemon)

    assert code == 0
    assert health.status_code == 200
    assert health.json()["scheduler"] == "alive"
    assert health.json()["database"] == "ok"
    assert health.json()["last_pass"]
    assert "watcher_passes_total 1" in metrics
    assert 'watcher_polls_total{outcome="ok"} 1' in metrics
    assert 'watcher_source_errors_total{kind="http_5xx"} 1' in metrics
    assert 'watcher_articles_total{outcome="filed"} 1' in metrics
    assert missing.status_code == 404


def test_an_address_that_cannot_be_listened_on_is_a_clear_error(
    seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        config = write_config(
            tmp_path / "w.toml",
            database_url=database_url,
            corpus=seed_corpus,
            sources=[],
            tables={"daemon": {"listen": address}},
        )
        result = run_watcher("run", config=config, timeout=DEADLINE)
    assert result.returncode == 2
    assert f"daemon.listen: cannot listen on {address}" in result.stderr
    assert "cannot use the corpus folder" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_source_backs_off_and_the_others_go_on(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    threaded_server.expect_request("/broken.xml").respond_with_response(Response(status=500))
    good = _feed(site, "/good", ARTICLES[:1])
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Broken", "url": site.url("/broken.xml")}, {"name": "Good", "url": good}],
        tables=FAST,
    )
    with running_daemon(config) as daemon:
        wait_for(lambda: len(new_files(seed_corpus)) == 1, "the good source's article filed")
        time.sleep(1.0)
        code, events = stop(daemon)

    assert code == 0
    assert site.requests_to("/broken.xml") == ["/broken.xml"], "not retried at every tick"
    row = query(
        database_url,
        "SELECT consecutive_failures, last_error_kind, next_poll_at FROM sources"
        " WHERE name = 'Broken'",
    )
    assert row[0][:2] == (1, "http_5xx")
    assert aware(row[0][2]) > datetime.now(UTC)
    listed = run_watcher("sources", "list", config=config)
    assert listed.returncode == 0, listed.stderr
    assert "http_5xx" in listed.stdout
    assert "Broken" in listed.stdout
    assert any(e["event"] == "source_failed" and e.get("source") == "Broken" for e in events)


def test_sighup_reloads_the_sources_and_keeps_the_old_ones_when_the_file_is_bad(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    first = _feed(site, "/first", ARTICLES[:1])
    second = _feed(site, "/second", ARTICLES[1:])
    path = tmp_path / "w.toml"

    def configure(*feeds: str) -> None:
        sources = [{"name": f"S{i}", "url": url} for i, url in enumerate(feeds)]
        write_config(
            path, database_url=database_url, corpus=seed_corpus, sources=sources, tables=FAST
        )

    configure(first)
    with running_daemon(path) as daemon:
        wait_for(lambda: len(new_files(seed_corpus)) == 1, "the first source polled")
        configure(first, second)
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: len(new_files(seed_corpus)) == 2, "the added source polled")
        path.write_text("[storage\n", encoding="utf-8")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert daemon.poll() is None, "a bad file does not stop the daemon"
        configure(first, second)
        path.write_text(path.read_text() + "bogus_key = 1\n", encoding="utf-8")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        code, events = stop(daemon)

    assert code == 0
    names = [event["event"] for event in events]
    assert names.count("config_reloaded") == 1
    assert names.count("config_reload_failed") == 2
    errors = [e["error"] for e in events if e["event"] == "config_reload_failed"]
    assert "[[sources]] 'S1' (the 2nd).bogus_key: unknown key" in errors[1], "names the source"


def test_fetch_waits_while_another_pass_holds_the_corpus(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """One writer at a time: ``watcher fetch`` says it waits, then runs its pass."""
    site = Site(threaded_server)
    feed = _feed(site, "/feed", ARTICLES[:1])
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "S", "url": feed}],
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    with (seed_corpus / LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        fetch = subprocess.Popen(
            [sys.executable, "-m", "watcher", "fetch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(3.0)  # time to start and find the lock held
        assert fetch.poll() is None, "fetch did not wait"
        assert site.requests_to("/feed") == [], "nothing fetched while the lock is held"
        fcntl.flock(held, fcntl.LOCK_UN)
    _out, err = fetch.communicate(timeout=DEADLINE)
    assert fetch.returncode == 0, err
    assert "waiting for it to finish" in err
    assert len(new_files(seed_corpus)) == 1


def test_sigterm_during_a_pass_exits_0_promptly_and_the_work_resumes(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A page that takes a minute is in flight when SIGTERM comes: the daemon leaves it,
    exits 0 within seconds, half-writes nothing, and the next pass files it."""
    site = Site(threaded_server)
    title, paragraphs = _article(ARTICLES[0])
    body = article_html(title, paragraphs).encode()
    held = site.add_held_page("/slow/article", body, DEADLINE)
    item = FeedItem(site.url("/slow/article"), title, guid="slow", published=recent())
    feed = site.add_feed("/slow.xml", rss([item]))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Slow", "url": feed}],
        http={"deadline": 120, "timeout": 120},
        tables=FAST,
    )
    with running_daemon(config) as daemon:
        wait_for(held.requested.is_set, "the page requested")
        stopped_at = time.monotonic()
        try:
            code, events = stop(daemon)
        finally:
            held.released.set()
        took = time.monotonic() - stopped_at

    assert code == 0
    assert took < DEADLINE / 2, f"took {took:.1f} s to stop"
    assert "pass_abandoned" in [event["event"] for event in events]
    assert new_files(seed_corpus) == []
    assert not list(seed_corpus.glob(".tmp-*"))
    assert query(database_url, "SELECT state FROM entries") == [("pending",)]

    result = run_watcher("fetch", config=config)
    assert result.returncode == 0, result.stderr
    assert len(new_files(seed_corpus)) == 1, "the abandoned article is filed on the next pass"


def _article(article_id: str) -> tuple[str, list[str]]:
    shared_path("eval", "relevance", "articles.jsonl")
    article = relevance_articles([article_id])[article_id]
    return article["title"], [line for line in article["text"].splitlines() if line.strip()]


KILLED = [
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "baram-028_0002783531",
    "aif-2018-01-38",
    "eco20-2020-06-20-liaison-office",
    "eco25-2025-12-20-017",
    "kcna-2024-10-13-1605",
    "kcna-2024-09-16-1078",  # labelled irrelevant: recorded, never filed
    "kcna-2024-07-29-169",  # labelled irrelevant
]


def test_killed_twenty_times_at_random_points_it_loses_and_doubles_nothing(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL to the whole daemon (workers included) at random moments of start-up and
    of a pass, twenty times; then one clean run. Every entry ends done, once; every
    article is one row; every corpus file has its row and its manifest line."""
    shared_path("eval", "relevance", "articles.jsonl")
    site = Site(threaded_server)
    articles = relevance_articles(KILLED)
    rng = random.Random(20261122)
    items = []
    for number, article_id in enumerate(KILLED):
        article = articles[article_id]
        paragraphs = [line for line in article["text"].splitlines() if line.strip()]
        body = article_html(article["title"], paragraphs).encode()
        pause = rng.uniform(0.1, 0.6)  # spreads the pass over the kill window

        def slow(_request: object, body: bytes = body, pause: float = pause) -> Response:
            time.sleep(pause)
            return Response(body, content_type="text/html; charset=utf-8")

        threaded_server.expect_request(f"/k/{number}").respond_with_handler(slow)
        items.append(FeedItem(site.url(f"/k/{number}"), article["title"], guid=article_id))
    for item in items:
        item.published = recent()
    feed = site.add_feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "K", "url": feed}],
        http={"concurrency": 2},
        tables=FAST,
    )
    for kill in range(20):
        log = tmp_path / f"daemon-{kill}.log"  # read when it fails to get to work
        with running_daemon(config, killed=True, log=log) as daemon:
            if kill % 2:  # mid-pass: once this daemon is at work, at a random moment
                wait_for(
                    partial(_at_work, threaded_server, len(threaded_server.log), database_url),
                    "the daemon at work",
                    said=log,
                )
                time.sleep(rng.uniform(0.0, 1.5))
            else:  # anywhere in start-up or the first moments of a pass
                time.sleep(rng.uniform(0.2, 2.5))
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=DEADLINE)

    interrupted = len(site.requests_to("/k/"))
    assert interrupted >= 1, "the kills reached a pass, not only start-ups"
    port = free_port()  # the clean run says when it is up, so SIGTERM finds it ready
    write_config(
        config,
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "K", "url": feed}],
        http={"concurrency": 2},
        tables={**FAST, "daemon": {"listen": f"127.0.0.1:{port}"}},
    )
    with running_daemon(config) as daemon:
        wait_for(lambda: get_text(f"http://127.0.0.1:{port}/healthz") is not None, "started")
        wait_for(
            lambda: _states(database_url) == {"done"},
            "every entry done after the restarts",
        )
        code, _events = stop(daemon)

    assert code == 0
    entries = query(database_url, "SELECT entry_key, outcome, item_id FROM entries")
    assert sorted(key for key, _o, _i in entries) == sorted(KILLED), "each entry once"
    items_rows = query(database_url, "SELECT id, url, file, relevant FROM items WHERE NOT is_seed")
    urls = [url for _id, url, _file, _rel in items_rows]
    assert len(urls) == len(set(urls)) == len(KILLED), "each article once"
    files = {p.name for p in new_files(seed_corpus)}
    filed_rows = {file for _id, _url, file, _rel in items_rows if file}
    assert files == filed_rows, "a file for every filed row, a row for every file"
    assert len(files) >= 5, "the relevant articles were filed"
    manifest = [
        json.loads(line)["file"]
        for line in (seed_corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(manifest) == sorted(files | {p.name for p in seed_corpus.glob("00[0-4]_*")})
    assert not list(seed_corpus.glob(".tmp-*")), "no temporary file left behind"


def _at_work(server: HTTPServer, requests_before: int, database_url: str) -> bool:
    """A request since ``requests_before``, or nothing left to do."""
    if len(server.log) > requests_before:
        return True
    try:
        return _states(database_url) == {"done"}
    except DBAPIError:
        return False  # killed before the schema was made


def _states(database_url: str) -> set[object]:
    return {state for (state,) in query(database_url, "SELECT DISTINCT state FROM entries")}


def test_sources_check_polls_now_reports_and_stores_nothing(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    good = _feed(site, "/good", ARTICLES)
    site.add_page(Page("/page.xml", b"<html><body><p>No feed here</p></body></html>"))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Good", "url": good}, {"name": "Page", "url": site.url("/page.xml")}],
    )

    both = run_watcher("sources", "check", config=config)
    one = run_watcher("sources", "check", "Good", config=config)

    assert both.returncode == 1, both.stderr
    assert "FAILED (not_a_feed)" in both.stdout
    assert "Good" in both.stdout
    assert " 2 " in one.stdout.split("Good", 1)[1].splitlines()[0], one.stdout
    assert one.returncode == 0
    assert site.requests_to("/good/") == [], "no page fetched"
    assert new_files(seed_corpus) == []
    engine = create_engine(database_url)
    try:
        assert "sources" not in inspect(engine).get_table_names(), "the database untouched"
    finally:
        engine.dispose()


def test_sigterm_while_it_is_still_starting_exits_0(
    seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A service manager may stop the daemon in its first second, while the pipeline's
    libraries are still being imported: that is a clean stop too."""
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=seed_corpus, sources=[]
    )
    with running_daemon(config) as daemon:
        time.sleep(0.1)  # the interpreter is up; the imports take a second or more
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=DEADLINE)
    assert daemon.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_database_going_away_mid_pass_is_survived(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """The database stops taking connections while a page is in flight (a server
    restart, a failover): the daemon says so at each tick, stays up, and when the
    database is back files the article it was reading, once."""
    site = Site(threaded_server)
    first, held = ARTICLES
    title, paragraphs = _article(held)
    body = article_html(title, paragraphs).encode()
    page = site.add_held_page("/held/article", body, DEADLINE)
    items = [
        *article_items(site, "/news", [first]),
        FeedItem(site.url("/held/article"), title, guid="held", published=recent()),
    ]
    feed = site.add_feed("/news.xml", rss(items))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "News", "url": feed}],
        tables=FAST,
    )
    log = tmp_path / "watcher.log"
    try:
        with running_daemon(config, log=log) as daemon:
            wait_for(page.requested.is_set, "the held page requested")
            allow_connections(database_url, False)
            page.released.set()
            time.sleep(2.0)  # ten ticks at 0.2 s against a closed database
            assert daemon.poll() is None, "the daemon exited while the database was away"
            allow_connections(database_url, True)
            wait_for(lambda: len(new_files(seed_corpus)) == 2, "both articles filed")
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=DEADLINE)
    finally:
        page.released.set()
        allow_connections(database_url, True)

    assert code == 0
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    failures = [e for e in events if e["event"] == "pass_failed"]
    assert failures, "the outage was not reported"
    assert any("not currently accepting connections" in str(e["exception"]) for e in failures)
    assert not [e for e in events if "never retrieved" in str(e["event"])]
    assert query(database_url, "SELECT count(*) FROM items WHERE NOT is_seed") == [(2,)]
    assert sorted(query(database_url, "SELECT state FROM entries")) == [("done",), ("done",)]
