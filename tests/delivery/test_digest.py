"""The digest's parts: send times, selection and grouping, rendering, its record.

Selection runs on a real database (SQLite and PostgreSQL); sending is tested against a
real SMTP server in test_digest_e2e.py.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from tests.conftest import text_item, write_config
from watcher.config import Config, DigestConfig, load_config
from watcher.dedup.urls import url_hash
from watcher.delivery.digest import build_digest, compose, last_send_time, next_send_time, render
from watcher.delivery.digest.content import excerpt
from watcher.errors import ConfigError
from watcher.store import DigestRecord, NewEntry, Store

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")

LEDE = (
    "South Korea's new government reopened the liaison channel with Pyongyang on Monday. "
    "The move follows months of silence on the inter-Korean hotline. "
    "Officials in Seoul called it a first step. "
    "A fourth sentence that the excerpt leaves out."
)


# --- when -----------------------------------------------------------------------------


def test_the_next_send_time_is_the_wall_clock_time_in_the_zone() -> None:
    before = datetime(2026, 11, 21, 21, 59, tzinfo=UTC)  # 06:59 in Seoul
    after = datetime(2026, 11, 21, 22, 0, 1, tzinfo=UTC)  # 07:00:01 in Seoul
    assert next_send_time(before, time(7), SEOUL) == datetime(2026, 11, 21, 22, tzinfo=UTC)
    assert next_send_time(after, time(7), SEOUL) == datetime(2026, 11, 22, 22, tzinfo=UTC)
    assert last_send_time(before, time(7), SEOUL) == datetime(2026, 11, 20, 22, tzinfo=UTC)
    assert last_send_time(after, time(7), SEOUL) == datetime(2026, 11, 21, 22, tzinfo=UTC)


def test_seven_in_the_morning_stays_seven_across_daylight_saving() -> None:
    # Berlin moves from UTC+1 to UTC+2 on 29 March 2026 and back on 25 October.
    march = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert next_send_time(march, time(7), BERLIN) == datetime(2026, 3, 29, 5, tzinfo=UTC)
    october = datetime(2026, 10, 24, 12, tzinfo=UTC)
    assert next_send_time(october, time(7), BERLIN) == datetime(2026, 10, 25, 6, tzinfo=UTC)
    # 02:30 does not exist on 29 March: it is sent an hour on, at 03:30 summer time
    gap = next_send_time(march, time(2, 30), BERLIN)
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Asia/Seoul", "Europe/Berlin", "America/New_York", "UTC"])
def test_the_pure_send_times_agree_with_the_daemons_cron_trigger(zone: str) -> None:
    tz = ZoneInfo(zone)
    trigger = CronTrigger(hour=7, minute=0, second=0, timezone=tz)
    moment = datetime(2026, 1, 1, 0, 17, tzinfo=UTC)
    checked = 0
    while moment < datetime(2027, 1, 1, tzinfo=UTC):
        expected = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        assert expected is not None
        assert next_send_time(moment, time(7), tz) == expected.astimezone(UTC), moment
        assert last_send_time(moment, time(7), tz) <= moment < expected
        moment += timedelta(hours=7, minutes=13)
        checked += 1
    assert checked > 1000


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "value", "said"),
    [
        ("smtp", "starttls", True, "starttls and implicit_tls cannot both be true"),
        ("digest", "timezone", "Asia/Pyongyang-ish", "unknown time zone"),
        ("digest", "recipients", ["analyst"], "is not an email address"),
        ("digest", "subject", "{{ date", "not a usable template"),
        ("digest", "subject", "{{ nonsense }}", "not a usable template"),
        ("digest", "send_at", "25:00", "digest.send_at"),
    ],
)
def test_a_bad_digest_or_smtp_setting_is_a_clear_error(
    tmp_path: Path, table: str, key: str, value: object, said: str
) -> None:
    tables: dict[str, dict[str, object]] = {"smtp": {"implicit_tls": True}}
    tables.setdefault(table, {})[key] = value
    path = write_config(
        tmp_path / "w.toml",
        database_url="sqlite:///w.db",
        corpus=tmp_path / "corpus",
        sources=[],
        tables=tables,
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert said in str(raised.value)
    assert f"\n  {table}" in str(raised.value), "the message names the table"


def test_the_smtp_ca_file_resolves_against_the_config_folder(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "w.toml",
        database_url="sqlite:///w.db",
        corpus=tmp_path / "corpus",
        sources=[],
        tables={"smtp": {"ca_file": "certs/ca.pem", "starttls": True}},
    )
    assert load_config(path).smtp.ca_file == tmp_path / "certs" / "ca.pem"


# --- selection and grouping -----------------------------------------------------------


def _config(tmp_path: Path, **digest: object) -> Config:
    return Config.model_validate(
        {
            "storage": {"corpus_dir": str(tmp_path / "corpus")},
            "digest": {"recipients": ["analyst@example.org"], "timezone": "Asia/Seoul", **digest},
        }
    )


def _add(store: Store, name: str, **changes: object) -> int:
    body = f"{name}: " + LEDE
    values: dict[str, object] = {"fetched": NOW - timedelta(hours=2), "title": f"Title {name}"}
    return store.add_item(text_item(f"https://example.org/{name}", body, **{**values, **changes}))


def _titles(section: object) -> list[str]:
    return [a.title for a in section.articles]  # type: ignore[attr-defined]


def test_an_article_with_two_ties_appears_once_under_its_strongest(
    store: Store, tmp_path: Path
) -> None:
    both = (("russia-nk", 0.9), ("inter-korean", 0.7), ("russia-sk", 0.1))
    _add(store, "both", labels=("inter-korean", "russia-nk"), tie_scores=both, score=0.9)
    _add(store, "ik", labels=("inter-korean",), tie_scores=(("inter-korean", 0.8),), score=0.8)
    _add(store, "rsk", labels=("russia-sk",), tie_scores=(("russia-sk", 0.6),), score=0.6)

    made = build_digest(store, _config(tmp_path), recipient="analyst@example.org", now=NOW)

    assert [s.tie for s in made.sections] == ["inter-korean", "russia-nk", "russia-sk"]
    assert _titles(made.sections[0]) == ["Title ik"]
    assert _titles(made.sections[1]) == ["Title both"]
    assert made.sections[1].articles[0].labels == ("russia-nk", "inter-korean")
    assert made.count == 3
    assert sorted(made.item_ids) == sorted(set(made.item_ids))


def test_articles_rank_by_score_then_freshness_and_overflow_goes_to_one_line_each(
    store: Store, tmp_path: Path
) -> None:
    ties = (("inter-korean", 0.0),)
    for name, score, age in [("a", 0.6, 0), ("b", 0.95, 0), ("c", 0.95, 6), ("d", 0.7, 0)]:
        published = NOW - timedelta(days=age)
        _add(
            store, name, labels=("inter-korean",), tie_scores=ties, score=score, published=published
        )

    made = build_digest(
        store, _config(tmp_path, max_per_tie=2), recipient="analyst@example.org", now=NOW
    )

    (section,) = made.sections
    assert _titles(section) == ["Title b", "Title c"]
    assert [a.title for a in section.more] == ["Title d", "Title a"]
    assert made.count == 4, "the overflow is in the digest too, one line each"


def test_what_is_left_out_seeds_old_items_marked_irrelevant_and_below_min_score(
    store: Store, tmp_path: Path
) -> None:
    label = {"labels": ("inter-korean",)}
    kept = _add(store, "kept", **label)
    _add(store, "old", fetched=NOW - timedelta(days=3), **label)
    _add(store, "weak", score=0.55, **label)
    marked = _add(store, "marked", **label)
    store.add_mark(marked, "irrelevant", [], NOW)
    store.add_seed("000_0000000000000001.txt", 0, "0000000000000001", "a seed " + LEDE, [])

    made = build_digest(
        store, _config(tmp_path, min_score=0.6), recipient="analyst@example.org", now=NOW
    )

    assert made.item_ids == (kept,)


def test_near_misses_are_the_best_unmarked_articles_just_under_the_threshold(
    store: Store, tmp_path: Path
) -> None:
    def miss(name: str, score: float) -> int:
        ties = (("russia-sk", score), ("inter-korean", score / 2))
        return _add(store, name, relevant=False, score=score, tie_scores=ties)

    best, second = miss("best", 0.48), miss("second", 0.40)
    miss("third", 0.35)
    miss("far", 0.1)  # under half the threshold: no near miss at all
    marked = miss("marked", 0.45)
    store.add_mark(marked, "irrelevant", [], NOW)

    made = build_digest(
        store, _config(tmp_path, near_misses=2), recipient="analyst@example.org", now=NOW
    )

    assert made.sections == ()
    assert [n.article.id for n in made.near_misses] == [best, second]
    assert made.near_misses[0].command == f"watcher items mark {best} relevant --label russia-sk"


def test_copies_found_on_other_sites_are_listed_as_also_at(store: Store, tmp_path: Path) -> None:
    item = _add(store, "original", labels=("inter-korean",))
    mirror = store.sync_manual_source("https://mirror.example.net/feed", "Mirror")
    copies = ["https://mirror.example.net/copy", "https://example.org/original?utm_source=x"]
    entries = [
        NewEntry(
            key=url,
            guid=None,
            link=url,
            url_hash=url_hash(url),
            title=None,
            published=None,
            feed_content=None,
            first_seen=NOW,
            outcome="duplicate",
            item_id=item,
        )
        for url in copies
    ]
    store.add_entries(mirror.id, entries)

    made = build_digest(store, _config(tmp_path), recipient="analyst@example.org", now=NOW)

    (article,) = made.sections[0].articles
    assert [(c.source, c.url) for c in article.also_at] == [
        ("Mirror", "https://mirror.example.net/copy")
    ], "a tracking variant of the article's own URL is no other site"


def test_the_window_starts_at_the_last_sent_digest_and_what_was_sent_is_not_again(
    store: Store, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    first = _add(store, "first", labels=("inter-korean",))
    made = build_digest(store, config, recipient="analyst@example.org", now=NOW)
    assert made.item_ids == (first,)
    store.record_digest(
        DigestRecord("analyst@example.org", None, NOW, "sent", NOW, "<m@x>", made.item_ids)
    )
    later = NOW + timedelta(days=1)
    second = _add(store, "second", labels=("inter-korean",), fetched=later - timedelta(hours=1))

    again = build_digest(store, config, recipient="analyst@example.org", now=later)
    other = build_digest(store, config, recipient="colleague@example.org", now=later)

    assert again.item_ids == (second,)
    assert other.item_ids == (second,), "a new recipient's first digest reaches back a day"
    widened = build_digest(
        store, config, recipient="analyst@example.org", now=later, since=NOW - timedelta(days=1)
    )
    assert set(widened.item_ids) == {first, second}, "--since previews what was sent too"


def test_a_failed_digest_marks_nothing_and_keeps_the_window_open(
    store: Store, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    item = _add(store, "waiting", labels=("inter-korean",))
    store.record_digest(
        DigestRecord("analyst@example.org", None, NOW, "failed", item_ids=(item,), error="451")
    )
    three_days_on = NOW + timedelta(days=3)

    made = build_digest(store, config, recipient="analyst@example.org", now=three_days_on)

    assert made.item_ids == (item,), "the first attempt's window holds until one is sent"
    (record,) = store.digests("analyst@example.org")
    assert (record.status, record.item_ids, record.error) == ("failed", (), "451")


def test_failing_and_stale_sources_are_noted_for_the_footer(store: Store, tmp_path: Path) -> None:
    from watcher.errors import FetchError
    from watcher.store import PollRecord

    config = Config.model_validate(
        {
            "storage": {"corpus_dir": str(tmp_path / "corpus")},
            "schedule": {"stale_after_polls": 3},
            "sources": [
                {"name": "Down", "url": "https://down.example.org/feed"},
                {"name": "Blip", "url": "https://blip.example.org/feed"},
                {"name": "Quiet", "url": "https://quiet.example.org/feed"},
                {"name": "Fine", "url": "https://fine.example.org/feed"},
            ],
        }
    )
    states = store.sync_sources(config.sources)
    error = FetchError("https://down.example.org/feed", "dns", "name not known")
    failed = PollRecord(NOW, 3600, error=error)
    for hours in (30, 20, 1):
        store.record_poll(
            states["https://down.example.org/feed"].id, failed, NOW - timedelta(hours=hours)
        )
    store.record_poll(states["https://blip.example.org/feed"].id, failed, NOW - timedelta(hours=2))
    for _ in range(3):
        store.record_poll(states["https://quiet.example.org/feed"].id, PollRecord(NOW, 3600), NOW)
    store.record_poll(states["https://fine.example.org/feed"].id, PollRecord(NOW, 3600, 2), NOW)

    made = build_digest(store, config, recipient=None, now=NOW)

    notes = {note.name: note.status for note in made.sources}
    assert set(notes) == {"Down", "Quiet"}, "a failure of two hours is not news yet"
    assert notes["Down"].startswith("failing (dns, 3 in a row), since 2026-11-21")
    assert notes["Quiet"].startswith("stale")


# --- rendering ------------------------------------------------------------------------


def test_a_hostile_title_and_link_arrive_as_text(store: Store, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> Kim & Putin <b>sign</b>'
    _add(store, "hostile", title=hostile, labels=("russia-nk",))
    item = _add(store, "js", labels=("russia-nk",), title="Link test")
    with store._session() as session:  # a link no feed should carry, stored anyway
        from watcher.store.models import Item

        row = session.get(Item, item)
        assert row is not None
        row.url = "javascript:alert(1)"
        session.add(row)
        session.commit()
    made = build_digest(store, _config(tmp_path), recipient="analyst@example.org", now=NOW)

    rendered = render(made, "watcher {{ date }}: {{ summary }}")

    assert "<script" not in rendered.html.lower()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Kim &amp; Putin" in rendered.html
    assert "javascript:" not in rendered.html
    assert hostile in rendered.text, "the text part shows the title as it is"
    assert rendered.subject == "watcher 22 Nov 2026: 2 Russia\N{EN DASH}North Korea"


def test_the_message_has_a_text_and_an_html_part_and_the_headers_a_reader_needs(
    store: Store, tmp_path: Path
) -> None:
    _add(store, "one", labels=("inter-korean",), authors=("Ankit Panda", "Jenny Town"))
    made = build_digest(store, _config(tmp_path), recipient="analyst@example.org", now=NOW)
    message = compose(
        render(made, DigestConfig().subject),
        sender="watcher@example.org",
        recipient="analyst@example.org",
        now=NOW,
    )

    parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    body = text.get_content()
    assert "1 new article: 1 Inter-Korean" in body
    assert "Ankit Panda, Jenny Town" in body
    assert "Officials in Seoul called it a first step." in body
    assert "fourth sentence" not in body
    assert parsed["To"] == "analyst@example.org"
    assert parsed["Message-ID"].endswith("@example.org>")
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert "<img" not in html.get_content()
    assert "<link" not in html.get_content()


def test_the_excerpt_skips_furniture_and_keeps_two_or_three_sentences() -> None:
    text = "Analysis\nTitle here\nBy Someone\n\N{COPYRIGHT SIGN} picture alliance " + "x" * 60
    text += "\n" + LEDE
    assert excerpt(text, "Title here") == (
        "South Korea's new government reopened the liaison channel with Pyongyang on Monday. "
        "The move follows months of silence on the inter-Korean hotline. "
        "Officials in Seoul called it a first step."
    )
    long = "A very long sentence about the border " * 20 + "."
    clipped = excerpt(long)
    assert clipped.endswith("\N{HORIZONTAL ELLIPSIS}")
    assert len(clipped) <= 361
