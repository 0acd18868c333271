"""``watcher digest`` as a user runs it: real feeds and pages over HTTP, a real fetch,
a real SMTP server (aiosmtpd) on 127.0.0.1, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pytest
import trustme
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from PIL import Image
from pytest_httpserver import HTTPServer

from tests.conftest import ROOT, query, run_watcher, shared_path, text_item, write_config
from tests.services import aware, free_port, get_text, running_daemon, stop, wait_for
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss
from tests.smtp import Inbox
from watcher.config import load_config
from watcher.delivery.digest import last_send_time
from watcher.services.daemon import Daemon
from watcher.store import DigestRecord, Store
from watcher.store.db import open_engine

RELEVANT = [
    "eco20-2020-06-20-liaison-office",
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "kcna-2024-07-19-113",
]
NEW = "kcna-2024-08-16-470"
IRRELEVANT = ["kcna-2024-09-16-1078"]  # a hot spring in the North: recorded, not sent
HOSTILE_SOURCE = "baram-044_0000278407"
HOSTILE_TITLE = "<script>alert('x')</script> Russia & North Korea <b>swap</b> gifts"
MIRRORED = "eco20-2020-06-20-liaison-office"
ANALYST = "analyst@example.org"


@dataclass
class Beat:
    site: Site
    items: list[FeedItem]  # the think tank's feed, which a test may add to
    config: Path
    database_url: str
    inbox: Inbox
    corpus: Path

    def fetch(self) -> None:
        done = run_watcher("fetch", config=self.config)
        assert done.returncode == 0, done.stderr

    def digest(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        done = run_watcher("digest", *args, config=self.config, env=env)
        return done.returncode, done.stdout, done.stderr

    def relevant_items(self) -> dict[str, tuple[int, list[str], dict[str, float]]]:
        """Title -> (id, labels, tie scores) of what the database holds as relevant."""
        rows = query(
            self.database_url,
            "SELECT id, title, labels, tie_scores FROM items WHERE relevant AND NOT is_seed",
        )
        return {str(t): (int(i), _json(labels), _json(ties)) for i, t, labels, ties in rows}  # type: ignore[call-overload]

    def sent_rows(self) -> list[tuple[object, ...]]:
        return query(self.database_url, "SELECT recipient, item_id, kind FROM digest_items")


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _add_article(site: Site, path: str, article_id: str, title: str | None = None) -> FeedItem:
    article = relevance_articles([article_id])[article_id]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    title = title or article["title"]
    link = site.add_page(Page(path, article_html(title, paragraphs).encode()))
    return FeedItem(link, title, guid=path, published=recent())


@pytest.fixture
def inbox() -> object:
    server = Inbox()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _beat(
    server: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
    inbox: Inbox,
    *,
    digest: dict[str, object] | None = None,
    smtp: dict[str, object] | None = None,
) -> Beat:
    shared_path("eval", "relevance", "articles.jsonl")  # or skip, saying why
    site = Site(server)
    items = [_add_article(site, f"/tank/{a}", a) for a in RELEVANT + IRRELEVANT]
    items.append(_add_article(site, "/tank/gifts", HOSTILE_SOURCE, HOSTILE_TITLE))
    tank = site.add_feed("/tank.xml", lambda: rss(items))
    mirror = site.add_feed("/mirror.xml", rss([_add_article(site, "/mirror/copy", MIRRORED)]))
    config = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[
            {"name": "Think tank", "url": tank, "interval_minutes": 60},
            {"name": "Mirror", "url": mirror, "interval_minutes": 60},
        ],
        tables={
            "digest": {
                "recipients": [ANALYST],
                "sender": "watcher@example.org",
                "timezone": "Asia/Seoul",
                **(digest or {}),
            },
            "smtp": {"host": "127.0.0.1", "port": inbox.port, "retries": 0, **(smtp or {})},
        },
    )
    return Beat(site, items, config, database_url, inbox, seed_corpus)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None, "a plain-text part"
    assert html is not None, "an HTML part"
    return text.get_content(), html.get_content()


def test_the_digest_reaches_the_server_grouped_escaped_and_each_article_once(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    beat = _beat(httpserver, seed_corpus, database_url, tmp_path, inbox)
    beat.fetch()
    relevant = beat.relevant_items()
    assert len(relevant) >= 3, relevant

    code, out, err = beat.digest("--send")

    assert code == 0, err
    (received,) = inbox.received
    assert received.rcpt_tos == [ANALYST]
    message = received.message
    assert message["From"] == "watcher@example.org"
    assert message["To"] == ANALYST
    assert message["Message-ID"] in out
    assert message["Date"] is not None
    assert "Russia" in message["Subject"] or "Inter-Korean" in message["Subject"]
    text, html = _parts(message)
    for title, (_id, labels, ties) in relevant.items():
        assert text.count(title) == 1, f"{title!r} once in the text part"
        strongest = max(labels, key=lambda tie: ties.get(tie, 0.0))  # type: ignore[attr-defined]
        heading = {"inter-korean": "Inter-Korean", "russia-nk": "Russia\N{EN DASH}North Korea"}
        heading["russia-sk"] = "Russia\N{EN DASH}South Korea"
        section = text.split(f"== {heading[strongest]} (")[1].split("\n== ")[0]
        assert title in section, f"{title!r} under {strongest}"
    assert "Talchon" not in text, "the irrelevant article is not in the digest"
    # the hostile title: as text in both parts, never as markup
    assert HOSTILE_TITLE in relevant, "the classifier kept the hostile article"
    assert HOSTILE_TITLE in text
    assert "<script" not in html.lower()
    assert "<b>swap" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Russia &amp; North Korea" in html
    # the syndicated copy is one article, with the other site as "also at"
    # (whichever page was fetched first is the article; the other is where else it is)
    pair = [f"/tank/{MIRRORED}", "/mirror/copy"]
    assert sum(text.count(path) for path in pair) == 2, "the article's URL and its copy's"
    also = re.findall(r"Also at: (Mirror|Think tank) <http://[^/]+(\S+)>", text)
    assert len(also) == 1
    assert also[0] in (("Mirror", "/mirror/copy"), ("Think tank", f"/tank/{MIRRORED}"))
    sent = beat.sent_rows()
    assert sorted(row[1] for row in sent if row[2] == "item") == sorted(
        i for i, _l, _t in relevant.values()
    )
    (digest,) = query(database_url, "SELECT status, message_id, items FROM digests")
    assert digest == ("sent", message["Message-ID"], len(relevant))

    # a second send straight after: nothing new, and by default nothing is sent
    code, out, _err = beat.digest("--send")
    assert code == 0
    assert "nothing new" in out
    assert len(inbox.received) == 1

    # a new article arrives: the next digest holds it alone
    beat.items.append(_add_article(beat.site, "/tank/new", NEW))
    beat.fetch()
    code, _out, err = beat.digest("--send")
    assert code == 0, err
    assert len(inbox.received) == 2
    text, _html = _parts(inbox.received[1].message)
    (new_title,) = set(beat.relevant_items()) - set(relevant)
    assert new_title in text
    assert not [title for title in relevant if title in text], "nothing sent before"


def test_a_refusing_or_absent_server_marks_nothing_and_the_next_digest_holds_it(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    beat = _beat(
        httpserver,
        seed_corpus,
        database_url,
        tmp_path,
        inbox,
        smtp={"retries": 1, "retry_seconds": 0.05},
    )
    beat.fetch()
    wanted = {i for i, _l, _t in beat.relevant_items().values()}

    inbox.data_answers = ["451 4.3.0 try again later"] * 2  # the first try and its retry
    code, out, err = beat.digest("--send")
    assert code == 1
    assert "NOT SENT" in out
    assert "451" in out
    assert '"event": "smtp_retry"' in err, "a temporary failure is retried"
    assert inbox.data_answers == [], "both the try and the retry reached the server"

    inbox.data_answers = ["554 5.7.1 rejected as spam"]
    code, out, _err = beat.digest("--send")
    assert code == 1
    assert "554" in out
    assert inbox.data_answers == [], "a permanent refusal is not retried at once"

    inbox.stop()
    code, out, _err = beat.digest("--send")
    assert code == 1
    assert "Connection refused" in out or "refused" in out.lower()

    assert beat.sent_rows() == [], "nothing was marked sent"
    statuses = [row[0] for row in query(database_url, "SELECT status FROM digests ORDER BY id")]
    assert statuses == ["failed", "failed", "failed"]

    inbox.start()
    code, _out, err = beat.digest("--send")
    assert code == 0, err
    (received,) = inbox.received
    text, _html = _parts(received.message)
    assert {row[1] for row in beat.sent_rows()} >= wanted
    for title in beat.relevant_items():
        assert text.count(title) == 1


def test_a_refused_recipient_does_not_hold_back_the_others(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    colleague = "colleague@example.org"
    beat = _beat(
        httpserver,
        seed_corpus,
        database_url,
        tmp_path,
        inbox,
        digest={"recipients": [ANALYST, colleague]},
    )
    beat.fetch()
    inbox.refused[colleague] = "550 5.1.1 no such mailbox"

    code, out, _err = beat.digest("--send")

    assert code == 1
    assert f"{colleague}: NOT SENT" in out
    assert [r.rcpt_tos for r in inbox.received] == [[ANALYST]], "one message per recipient"
    assert {row[0] for row in beat.sent_rows()} == {ANALYST}

    del inbox.refused[colleague]
    code, _out, _err = beat.digest("--send")
    assert code == 0
    assert [r.rcpt_tos for r in inbox.received] == [[ANALYST], [colleague]]
    first, second = (_parts(r.message)[0] for r in inbox.received)
    assert [line for line in first.splitlines() if line[:3].strip(". ").isdigit()] == [
        line for line in second.splitlines() if line[:3].strip(". ").isdigit()
    ], "the colleague's late digest holds what the analyst's held"


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
def test_tls_and_a_login_whose_password_comes_only_from_the_environment(
    httpserver: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
    mode: str,
) -> None:
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    secret = "correct horse battery staple"
    inbox = Inbox(tls=context, implicit_tls=mode == "implicit_tls", password=secret)
    inbox.start()
    try:
        beat = _beat(
            httpserver,
            seed_corpus,
            database_url,
            tmp_path,
            inbox,
            smtp={mode: True, "username": "watcher", "ca_file": str(ca_file)},
        )
        beat.fetch()

        code, out, err = beat.digest("--send")
        assert code == 1, "no password in the environment: no login"
        assert "WATCHER_SMTP_PASSWORD" in out

        code, out, err = beat.digest("--send", env={"WATCHER_SMTP_PASSWORD": secret})
        assert code == 0, out + err
        assert inbox.logins == [("watcher", secret)]
        assert len(inbox.received) == 1
        assert secret not in out + err, "the password is never printed or logged"
        assert secret not in (tmp_path / "watcher.toml").read_text()
    finally:
        inbox.stop()


def test_an_untrusted_certificate_is_a_permanent_failure(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)  # a CA nobody trusts
    inbox = Inbox(tls=context)
    inbox.start()
    try:
        beat = _beat(
            httpserver, seed_corpus, database_url, tmp_path, inbox, smtp={"starttls": True}
        )
        beat.fetch()
        code, out, _err = beat.digest("--send")
    finally:
        inbox.stop()
    assert code == 1
    assert "TLS failed" in out
    assert "CERTIFICATE_VERIFY_FAILED" in out
    assert inbox.received == []


def test_a_preview_sends_and_marks_nothing_and_since_widens_it(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    beat = _beat(httpserver, seed_corpus, database_url, tmp_path, inbox)
    beat.fetch()
    titles = list(beat.relevant_items())

    code, text, err = beat.digest("--preview", "-")
    assert code == 0, err
    assert all(text.count(title) == 1 for title in titles)
    preview = tmp_path / "preview" / "digest.html"
    preview.parent.mkdir()
    code, _out, err = beat.digest("--preview", str(preview))
    assert code == 0, err
    html = preview.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;" in html
    assert inbox.received == []
    assert query(database_url, "SELECT COUNT(*) FROM digests") == [(0,)]

    code, _out, _err = beat.digest("--send")
    assert code == 0
    code, after, _err = beat.digest("--preview", "-")
    assert "Nothing new on your beat" in after, "what was sent is not previewed again"
    code, widened, _err = beat.digest("--preview", "-", "--since", "2000-01-01")
    assert all(widened.count(title) == 1 for title in titles), "--since shows it all again"

    code, _out, err = beat.digest("--send", "--since", "2000-01-01")
    assert code == 2
    assert "--send takes neither" in err
    code, _out, err = beat.digest("--preview", "-", "--since", "last tuesday")
    assert code == 2
    assert "is not an ISO 8601 date or time" in err


def _daemon_config(beat: Beat, send_at: str, port: int) -> None:
    """The beat's configuration with this send time (UTC) and a health endpoint."""
    text = beat.config.read_text(encoding="utf-8")
    text = text.replace('timezone = "Asia/Seoul"', f'timezone = "UTC"\nsend_at = "{send_at}"')
    text = text.replace("[smtp]", f'[daemon]\nlisten = "127.0.0.1:{port}"\n[smtp]')
    beat.config.write_text(text, encoding="utf-8")


def _started(port: int) -> bool:
    return get_text(f"http://127.0.0.1:{port}/healthz") is not None


def test_the_daemon_sends_the_digest_at_its_time_in_its_zone(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    beat = _beat(threaded_server, seed_corpus, database_url, tmp_path, inbox)
    beat.fetch()
    send_at = (datetime.now(UTC) + timedelta(seconds=20)).replace(microsecond=0)
    port = free_port()
    _daemon_config(beat, f"{send_at:%H:%M:%S}", port)

    with running_daemon(beat.config) as daemon:
        wait_for(lambda: _started(port), "the daemon started")
        assert inbox.received == [], "nothing before the send time"
        wait_for(lambda: len(inbox.received) == 1, "the digest sent at its time")
        code, events = stop(daemon)

    assert code == 0
    (scheduled,) = [e for e in events if e["event"] == "digest_scheduled"]
    assert scheduled["next"] == send_at.isoformat()
    assert scheduled["missed_sent_now"] is False, "a first digest is not a missed one"
    text, _html = _parts(inbox.received[0].message)
    assert all(text.count(title) == 1 for title in beat.relevant_items())
    ((slot, status),) = query(database_url, "SELECT slot, status FROM digests")
    assert status == "sent"
    assert aware(slot) == send_at


def test_a_digest_missed_while_the_daemon_was_down_is_sent_at_start_up_once(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    beat = _beat(threaded_server, seed_corpus, database_url, tmp_path, inbox)
    beat.fetch()
    now = datetime.now(UTC)
    send_at = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    port = free_port()
    _daemon_config(beat, f"{send_at:%H:%M}", port)
    # yesterday's digest went out; today's slot passed an hour ago while it was down
    config = load_config(beat.config)
    missed = last_send_time(now, config.digest.send_at, config.digest.zone())
    yesterday = missed - timedelta(days=1)
    store = Store(open_engine(database_url))
    try:
        store.record_digest(DigestRecord(ANALYST, yesterday, yesterday, "sent"))
    finally:
        store.close()

    with running_daemon(beat.config) as daemon:
        wait_for(lambda: len(inbox.received) == 1, "the missed digest sent at start-up")
        wait_for(lambda: _started(port), "the daemon serving")
        code, events = stop(daemon)
    assert code == 0
    assert [e["missed_sent_now"] for e in events if e["event"] == "digest_scheduled"] == [True]

    with running_daemon(beat.config) as daemon:  # started again: that slot is served already
        wait_for(lambda: _started(port), "the daemon started again")
        code, events = stop(daemon)
    assert code == 0
    assert [e["missed_sent_now"] for e in events if e["event"] == "digest_scheduled"] == [False]
    assert len(inbox.received) == 1, "sent once"
    slots = query(database_url, "SELECT slot FROM digests WHERE status = 'sent' ORDER BY id")
    assert [aware(s) for (s,) in slots] == [yesterday, missed]


def test_the_html_preview_renders_on_a_phone_screen(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    if shutil.which("chromium") is None:
        if os.environ.get("WATCHER_TEST_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: apt-get install chromium")
    beat = _beat(httpserver, seed_corpus, database_url, tmp_path, inbox)
    beat.fetch()
    html, png = tmp_path / "digest.html", tmp_path / "digest.png"
    assert beat.digest("--preview", str(html))[0] == 0

    shot = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "digest_screenshot.py"), str(html), str(png)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert shot.returncode == 0, shot.stderr
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    assert rgb.width == 2 * 390, "phone width at a phone's pixel density"
    pixels = np.asarray(rgb, dtype=np.int32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    dark = int(((red < 70) & (green < 70) & (blue < 70)).sum())
    links = int(((blue > 150) & (red < 90) & (green < 140)).sum())
    assert dark > 5_000, "body text is drawn"
    assert links > 1_000, "the titles are drawn as links"
    # nothing spills sideways: the right-most columns of the page are background
    edge = pixels[:, -4:, :].reshape(-1, 3)
    assert len(np.unique(edge, axis=0)) <= 2, "no text runs off the right edge"


def test_an_empty_day_sends_nothing_or_one_line_as_configured(
    seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    def configure(send_empty: bool) -> Path:
        return write_config(
            tmp_path / "watcher.toml",
            database_url=database_url,
            corpus=seed_corpus,
            sources=[],
            tables={
                "digest": {"recipients": [ANALYST], "send_empty": send_empty},
                "smtp": {"host": "127.0.0.1", "port": inbox.port, "retries": 0},
            },
        )

    quiet = run_watcher("digest", "--send", config=configure(False))
    assert quiet.returncode == 0, quiet.stderr
    assert inbox.received == []
    noisy = run_watcher("digest", "--send", config=configure(True))
    assert noisy.returncode == 0, noisy.stderr
    (received,) = inbox.received
    text, html = _parts(received.message)
    assert "Nothing new on your beat since" in text
    assert "Nothing new on your beat since" in html
    assert "nothing new" in received.message["Subject"]
    statuses = query(database_url, "SELECT status, items FROM digests ORDER BY id")
    assert statuses == [("empty", 0), ("sent", 0)]


def test_send_without_recipients_and_an_unwritable_preview_are_clear_errors(
    seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "watcher.toml", database_url=database_url, corpus=seed_corpus, sources=[]
    )
    send = run_watcher("digest", "--send", config=config)
    assert send.returncode == 2
    assert "no recipients: set [digest] recipients" in send.stderr
    unwritable = str(tmp_path / "no" / "such" / "d.html")
    preview = run_watcher("digest", "--preview", unwritable, config=config)
    assert preview.returncode == 2
    assert "cannot write" in preview.stderr
    assert "Traceback" not in send.stderr + preview.stderr


def test_the_daemon_retries_a_failed_digest_later_and_then_sends_it_whole(
    seed_corpus: Path, database_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    path = write_config(
        tmp_path / "watcher.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[],
        tables={
            "digest": {"recipients": [ANALYST], "send_at": "07:00"},
            "smtp": {"host": "127.0.0.1", "port": inbox.port, "retries": 0},
        },
    )
    now = datetime.now(UTC)
    store = Store(open_engine(database_url))
    body = "Seoul and Pyongyang reopened the inter-Korean hotline on Monday. " * 3
    fetched = now - timedelta(hours=1)
    item = store.add_item(
        text_item("https://example.org/a", body, title="Hotline", fetched=fetched)
    )
    daemon = Daemon(path, load_config(path), clock=lambda: now)
    inbox.data_answers = ["451 4.3.0 mailbox busy", "451 4.3.0 mailbox busy"]

    async def scenario() -> list[datetime | None]:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start(paused=True)  # jobs are planned, none runs by itself
        daemon._scheduler, daemon._store = scheduler, store
        retries = []
        try:
            for _ in range(3):
                await daemon._digest()
                job = scheduler.get_job("digest-retry")
                retries.append(job.next_run_time if job else None)
                if job:
                    job.remove()
        finally:
            scheduler.shutdown(wait=False)
        return retries

    try:
        retries = asyncio.run(scenario())
        sent = store.digests(ANALYST)
    finally:
        store.close()

    assert retries[0] == now + timedelta(minutes=10)
    assert retries[1] == now + timedelta(minutes=20), "the wait doubles"
    assert retries[2] is None, "sent: no more retries"
    assert [r.status for r in sent] == ["failed", "failed", "sent"]
    assert sent[2].item_ids == (item,)
    (received,) = inbox.received
    assert "Hotline" in _parts(received.message)[0]


def test_sighup_moves_the_digest_to_the_new_send_time_and_keeps_a_pending_retry(
    seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    def configure(send_at: str, zone: str, recipients: list[str]) -> Path:
        return write_config(
            tmp_path / "watcher.toml",
            database_url=database_url,
            corpus=seed_corpus,
            sources=[],
            tables={"digest": {"recipients": recipients, "send_at": send_at, "timezone": zone}},
        )

    path = configure("07:00", "Asia/Seoul", [ANALYST])
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    daemon = Daemon(path, load_config(path), clock=lambda: now)
    store = Store(open_engine(database_url))

    async def scenario() -> list[object]:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start(paused=True)
        daemon._scheduler, daemon._store = scheduler, store
        try:
            daemon._schedule_digest(catch_up=False)
            before = scheduler.get_job("digest").trigger.get_next_fire_time(None, now)
            scheduler.add_job(daemon._digest, "date", run_date=now, id="digest-retry")
            configure("18:30", "Europe/Berlin", [ANALYST])
            daemon._reload()  # what SIGHUP calls
            after = scheduler.get_job("digest").trigger.get_next_fire_time(None, now)
            kept = scheduler.get_job("digest-retry") is not None
            configure("18:30", "Europe/Berlin", [])
            daemon._reload()
            gone = [scheduler.get_job(name) for name in ("digest", "digest-retry")]
            return [before, after, kept, gone]
        finally:
            scheduler.shutdown(wait=False)

    try:
        before, after, kept, gone = asyncio.run(scenario())
    finally:
        store.close()
    assert before == datetime(2026, 11, 22, 22, 0, tzinfo=UTC), "07:00 in Seoul"
    assert after == datetime(2026, 11, 22, 17, 30, tzinfo=UTC), "18:30 in Berlin"
    assert kept, "a failed digest's retry survives a reload"
    assert gone == [None, None], "no recipients: no digest, no retry"
