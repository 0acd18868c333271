"""``watcher scheduler`` and ``watcher worker``: real processes on a real PostgreSQL queue.

A scheduler and several workers against pages served over HTTP on 127.0.0.1: every
article stored and filed once, a syndicated copy recorded as a duplicate, a worker
killed mid-job with its job finished by another, two schedulers refused, a restart that
enqueues nothing twice, and ``watcher status`` telling all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, create_engine
from werkzeug import Request, Response

from tests.conftest import query, run_watcher, scalar, write_config
from tests.services import DEADLINE, allow_connections, free_port, new_files, stop, wait_for
from tests.site import FeedItem, Site, article_html, article_items, recent, relevance_articles, rss
from watcher.scale.jobs import defer, ensure_queue_schema, entry_job, poll_job

RELEVANT = [
    "eco20-2020-06-20-liaison-office",
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "pen0-2025-05-06-brothers-in-arms",
]
OTHER = ["fine-west_ham_in_talks_with_jack_wilshere_over_cancelling_100000aweek_deal"]
# Beats every half second; a worker silent for 3 s has its jobs moved.
FAST = {
    "schedule": {"check_seconds": 0.3},
    "queue": {"heartbeat_seconds": 0.5, "stalled_seconds": 3, "concurrency": 4, "processes": 0},
}
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@contextmanager
def _role(config: Path, *args: str, log: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """A watcher service in the background, in a session of its own (so that a kill
    reaches its analysis processes too); stopped with SIGTERM unless it ended. ``log``:
    its log goes to that file (for a test that makes it log many tracebacks, which
    would fill a pipe read only at the end)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    with contextlib.ExitStack() as files:
        errors = (
            subprocess.PIPE if log is None else files.enter_context(log.open("w", encoding="utf-8"))
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.communicate(timeout=DEADLINE)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.communicate(timeout=DEADLINE)


def _settled(database_url: str) -> bool:
    waiting = _table_count(database_url, "SELECT count(*) FROM entries WHERE state <> 'done'")
    unwritten = _table_count(
        database_url,
        "SELECT count(*) FROM items WHERE file IS NOT NULL AND filed_at IS NULL AND NOT is_seed",
    )
    entries = _table_count(database_url, "SELECT count(*) FROM entries")
    return waiting == 0 and unwritten == 0 and entries > 0


def _status(config: Path) -> dict[str, object]:
    result = run_watcher("status", "--json", config=config, timeout=DEADLINE)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


@postgresql_only
def test_a_scheduler_and_two_workers_store_and_file_every_article_once(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    first = article_items(site, "/institute", RELEVANT + OTHER)
    # The second site syndicates the first article: the same text at another address.
    copy = article_items(site, "/syndicate", RELEVANT[:1])
    feeds = [
        {"name": "Institute", "url": site.add_feed("/institute.xml", rss(first))},
        {"name": "Syndicate", "url": site.add_feed("/syndicate.xml", rss(copy))},
    ]
    port = free_port()
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=feeds,
        tables={**FAST, "daemon": {"listen": f"127.0.0.1:{port}"}},
    )
    with _role(config, "scheduler") as scheduler, _role(config, "worker") as one:
        with _role(config, "worker") as two:
            entries = "SELECT count(*) FROM entries"
            wait_for(lambda: _table_count(database_url, entries) == 5, "both feeds polled")
            wait_for(lambda: _settled(database_url), "every entry settled, every file written")
            wait_for(lambda: _status(config)["queue"]["depth"] == 0, "the queue drained")  # type: ignore[index]
            status = _status(config)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            worker_code, worker_events = stop(two)
        one.send_signal(signal.SIGHUP)  # a service manager's reload: not the default death
        time.sleep(0.5)
        if one.poll() is not None:  # say why: its log is on its standard error
            said = one.communicate(timeout=DEADLINE)[1]
            pytest.fail(f"SIGHUP stopped the worker (exit {one.returncode}): {said[-3000:]}")
        assert stop(one)[0] == 0
        scheduler_code, scheduler_events = stop(scheduler)

    assert worker_code == 0
    assert scheduler_code == 0
    assert "worker_started" in [e["event"] for e in worker_events]
    assert "dispatched" in [e["event"] for e in scheduler_events]
    items = query(database_url, "SELECT url, relevant, file FROM items WHERE NOT is_seed")
    assert len(items) == 4, "four articles; the syndicated copy is not a fifth"
    duplicates = query(database_url, "SELECT link FROM entries WHERE duplicate")
    assert [link for (link,) in duplicates] == [copy[0].link] or [
        link for (link,) in duplicates
    ] == [first[0].link], "one of the two copies is the other's duplicate"
    filed = sorted(str(name) for _url, relevant, name in items if relevant)
    assert len(filed) >= 2
    assert [p.name for p in new_files(seed_corpus)] == filed, "each relevant article, one file"
    numbers = [int(name[:3]) for name in filed]
    assert len(set(numbers)) == len(numbers)
    manifest = (seed_corpus / "manifest.jsonl").read_text(encoding="utf-8")
    assert all(name in manifest for name in filed)
    queue = status["queue"]
    assert isinstance(queue, dict)
    assert queue["workers_alive"] == 2
    assert status["due"] == 0
    assert status["entries_waiting"] == 0
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }
    assert samples[("watcher_queue_depth", ())] == 0
    assert samples[("watcher_workers_alive", ())] == 2
    assert samples[("watcher_queue_jobs", (("state", "todo"), ("task", "watcher.poll")))] == 0


@postgresql_only
def test_a_killed_worker_s_job_is_finished_by_another_and_nothing_is_doubled(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    items = article_items(site, "/institute", RELEVANT[:1])
    article = relevance_articles(RELEVANT[1:2])[RELEVANT[1]]
    body = article_html(article["title"], article["text"].splitlines()).encode()
    # The first request hangs (its worker is killed meanwhile); later ones answer.
    slow = site.add_held_page("/institute/slow", body, DEADLINE)
    items.append(FeedItem(site.url("/institute/slow"), article["title"], published=recent()))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": site.add_feed("/institute.xml", rss(items))}],
        tables=FAST,
    )
    try:
        with _role(config, "scheduler") as scheduler:
            with _role(config, "worker") as doomed:
                wait_for(slow.requested.is_set, "the slow page asked for")
                os.killpg(doomed.pid, signal.SIGKILL)  # the worker and anything it started
                doomed.communicate(timeout=DEADLINE)
            with _role(config, "worker") as rescuer:
                wait_for(lambda: _settled(database_url), "the killed worker's job done")
                # A job for an entry already settled (a retried job whose first run had
                # finished) must change nothing.
                entry = scalar(database_url, "SELECT id FROM entries ORDER BY id LIMIT 1")
                _defer_now(database_url, entry_job(int(str(entry))))
                wait_for(
                    lambda: scalar(database_url, "SELECT count(*) FROM procrastinate_jobs") == 0,
                    "the extra job run (and deleted, as successful jobs are)",
                )
                assert stop(rescuer)[0] == 0
            _code, events = stop(scheduler)
    finally:
        slow.released.set()

    requeued = [e for e in events if e["event"] == "job_requeued"]
    assert requeued, "the scheduler moved the dead worker's job"
    assert requeued[0]["task"] == "watcher.entry"
    stored = query(database_url, "SELECT url FROM items WHERE NOT is_seed ORDER BY url")
    assert [url for (url,) in stored] == sorted(item.link for item in items)
    assert len(new_files(seed_corpus)) == scalar(
        database_url, "SELECT count(*) FROM items WHERE relevant AND NOT is_seed"
    )
    attempts = query(database_url, "SELECT state, item_id FROM entries ORDER BY id")
    assert all(state == "done" and item_id for state, item_id in attempts)


@postgresql_only
def test_an_entry_that_failed_for_a_passing_reason_is_queued_again_and_filed(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    article = relevance_articles(RELEVANT[:1])[RELEVANT[0]]
    body = article_html(article["title"], article["text"].splitlines()).encode()
    answers: list[int] = []

    def flaky(_request: Request) -> Response:
        # Busy at first (503: a reason that may pass), then the page.
        answers.append(503 if not answers else 200)
        if answers[-1] == 503:
            return Response("busy", status=503)
        return Response(body, content_type="text/html; charset=utf-8")

    threaded_server.expect_request("/institute/flaky").respond_with_handler(flaky)
    item = FeedItem(site.url("/institute/flaky"), article["title"], published=recent())
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": site.add_feed("/institute.xml", rss([item]))}],
        tables=FAST,
    )
    with _role(config, "scheduler") as scheduler, _role(config, "worker") as worker:
        wait_for(lambda: answers == [503, 200] and _settled(database_url), "the second try")
        assert stop(worker)[0] == 0
        assert stop(scheduler)[0] == 0

    ((state, attempts, item_id),) = query(
        database_url, "SELECT state, attempts, item_id FROM entries"
    )
    assert (state, attempts) == ("done", 1), "one failed try recorded, then done"
    assert item_id is not None
    assert len(new_files(seed_corpus)) == 1


def _defer_now(database_url: str, job: object) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            defer(connection, [job])  # type: ignore[list-item]
    finally:
        engine.dispose()


@postgresql_only
def test_a_second_scheduler_is_refused_and_a_restart_enqueues_nothing_twice(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    sources = [
        {"name": f"Feed {n}", "url": site.add_feed(f"/feed{n}.xml", rss([]))} for n in range(5)
    ]
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=sources,
        tables=FAST,
    )
    polls = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'watcher.poll'"
    with _role(config, "scheduler") as first:
        wait_for(lambda: _table_count(database_url, polls) == 5, "five polls enqueued")
        second = run_watcher("scheduler", config=config, timeout=DEADLINE)
        time.sleep(1.0)  # three more ticks: no worker has run a job, none is due anew
        assert stop(first)[0] == 0
    with _role(config, "scheduler") as restarted:
        time.sleep(1.5)  # five ticks after a restart
        assert stop(restarted)[0] == 0

    assert second.returncode == 2
    assert "another watcher scheduler is running" in second.stderr
    locks = query(database_url, "SELECT queueing_lock FROM procrastinate_jobs ORDER BY id")
    assert len(locks) == 5, "each source's poll once, across ticks and a restart"
    assert len({lock for (lock,) in locks}) == 5
    assert _status(config)["queue"]["depth"] == 5  # type: ignore[index]
    shown = run_watcher("status", config=config, timeout=DEADLINE).stdout
    assert "queue depth: 5" in shown
    assert "watcher.poll: todo 5" in shown
    assert "workers alive: 0" in shown


@postgresql_only
def test_a_source_added_to_the_file_is_polled_after_sighup(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    first = {"name": "First", "url": site.add_feed("/first.xml", rss([]))}
    added = {"name": "Added", "url": site.add_feed("/added.xml", rss([]))}
    path = tmp_path / "w.toml"
    config = write_config(
        path, database_url=database_url, corpus=seed_corpus, sources=[first], tables=FAST
    )
    polls = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'watcher.poll'"
    with _role(config, "scheduler") as scheduler:
        wait_for(lambda: _table_count(database_url, polls) == 1, "the first source's poll")
        write_config(
            path,
            database_url=database_url,
            corpus=seed_corpus,
            sources=[first, added],
            tables=FAST,
        )
        scheduler.send_signal(signal.SIGHUP)
        wait_for(lambda: _table_count(database_url, polls) == 2, "the added source's poll")
        code, events = stop(scheduler)

    assert code == 0
    assert "config_reloaded" in [e["event"] for e in events]
    feeds = query(database_url, "SELECT args->>'feed_url' FROM procrastinate_jobs ORDER BY id")
    assert [url for (url,) in feeds] == [first["url"], added["url"]]


def _table_count(database_url: str, sql: str) -> int:
    try:
        return int(str(scalar(database_url, sql)))
    except Exception:  # the table is made by the scheduler's start
        return -1


@postgresql_only
def test_jobs_are_enqueued_with_the_transaction_or_not_at_all(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        ensure_queue_schema(engine)
        with pytest.raises(RuntimeError, match="write failed"):
            _defer_then_fail(engine)
        with engine.begin() as connection:
            first = defer(connection, [poll_job(1, "http://a.example/feed"), entry_job(7)])
            again = defer(connection, [poll_job(1, "http://a.example/feed"), entry_job(8)])
        rows = query(database_url, "SELECT queueing_lock FROM procrastinate_jobs ORDER BY id")
    finally:
        engine.dispose()
    assert (first, again) == (2, 1), "a source already queued is not queued again"
    assert [lock for (lock,) in rows] == ["poll:1", "entry:7", "entry:8"]


def _defer_then_fail(engine: Engine) -> None:
    with engine.begin() as connection:
        assert defer(connection, [poll_job(1, "http://a.example/feed")]) == 1
        raise RuntimeError("the caller's write failed")


def test_the_roles_need_postgresql_and_say_so(seed_corpus: Path, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "w.toml",
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        corpus=seed_corpus,
        sources=[],
    )
    for role in ("scheduler", "worker"):
        result = run_watcher(role, config=config, timeout=DEADLINE)
        assert result.returncode == 2, role
        assert "the task queue needs PostgreSQL" in result.stderr
        assert "Traceback" not in result.stderr


@postgresql_only
def test_the_scheduler_and_a_worker_ride_out_a_database_outage(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """The database stops taking connections while a worker is reading a page: both
    roles stay up and say why their work fails, and when it is back the article is
    stored and filed once."""
    site = Site(threaded_server)
    held = relevance_articles(RELEVANT[1:2])[RELEVANT[1]]
    body = article_html(held["title"], held["text"].splitlines()).encode()
    page = site.add_held_page("/institute/held", body, DEADLINE)
    items = [
        *article_items(site, "/institute", RELEVANT[:1]),
        FeedItem(site.url("/institute/held"), held["title"], guid="held", published=recent()),
    ]
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[{"name": "Institute", "url": site.add_feed("/institute.xml", rss(items))}],
        tables=FAST,
    )
    logs = {role: tmp_path / f"{role}.log" for role in ("scheduler", "worker")}
    try:
        with (
            _role(config, "scheduler", log=logs["scheduler"]) as scheduler,
            _role(config, "worker", log=logs["worker"]) as worker,
        ):
            wait_for(page.requested.is_set, "the held page requested")
            allow_connections(database_url, False)
            page.released.set()
            # The held job fails, the worker looks for the next one: its query fails.
            time.sleep(6.0)  # and twenty ticks, a dozen heartbeats, three reconnections
            assert (scheduler.poll(), worker.poll()) == (None, None), "a role exited"
            allow_connections(database_url, True)
            wait_for(
                lambda: _settled(database_url) and len(new_files(seed_corpus)) == 2,
                "both articles stored and filed",
            )
            scheduler.send_signal(signal.SIGTERM)
            worker.send_signal(signal.SIGTERM)
            for role in (scheduler, worker):
                role.communicate(timeout=DEADLINE)  # closes its output pipe too
            codes = (scheduler.returncode, worker.returncode)
    finally:
        page.released.set()
        allow_connections(database_url, True)

    assert codes == (0, 0)
    events = {role: _events(path) for role, path in logs.items()}
    closed = "not currently accepting connections"
    assert any(
        e["event"] == "dispatch_failed" and closed in str(e["exception"])
        for e in events["scheduler"]
    )
    # Whether the worker's own queries met the outage depends on timing (when they did,
    # procrastinate's worker ended, before run_worker caught it: one run in four here);
    # tests/daemon/test_worker_reconnect.py makes it happen every time.
    assert query(database_url, "SELECT count(*) FROM items WHERE NOT is_seed") == [(2,)]


def _events(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]
