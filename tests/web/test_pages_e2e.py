"""The review page over real HTTP: `watcher serve` on SQLite and PostgreSQL, after a real
`watcher fetch`. What a browser does is in test_browser_e2e.py; here, what any client sees:
statuses, escaping, headers, CSRF, the password rule and the login."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from pytest_httpserver import HTTPServer

from tests.conftest import manifest_by_file, query, run_watcher, scalar
from tests.services import free_port
from tests.web.served import (
    FOOTBALL,
    HOSTILE,
    KOREAN,
    LIAISON,
    NEAR,
    TROOPS,
    fetched,
    serving,
)

_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def test_the_inbox_lists_the_relevant_articles_by_tie_and_filters_them(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    with serving(config) as base:
        inbox = httpx.get(f"{base}/")
        russia = httpx.get(f"{base}/", params={"tie": "russia-nk"})
        football = httpx.get(f"{base}/", params={"mark": "irrelevant"})
        bad_tie = httpx.get(f"{base}/", params={"tie": "china-nk"})
        bad_date = httpx.get(f"{base}/", params={"since": "yesterday"})
        past_end = httpx.get(f"{base}/", params={"page": "9"})
        unknown = httpx.get(f"{base}/items/999999")
        not_a_number = httpx.get(f"{base}/items/abc")

    assert inbox.status_code == 200
    assert f'href="/items/{troops}"' in inbox.text
    assert "West Ham" not in inbox.text, "an off-beat article is not in the inbox"
    assert "Russia\N{EN DASH}North Korea" in inbox.text
    assert f'href="/items/{troops}"' in russia.text
    liaison_id = scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{LIAISON}'")
    if f"/items/{liaison_id}" in russia.text:  # the classifier may give it both ties
        labels = str(scalar(database_url, f"SELECT labels FROM items WHERE id = {liaison_id}"))
        assert "russia-nk" in labels
    assert "West Ham" not in football.text, "nothing is marked irrelevant yet"
    assert (bad_tie.status_code, bad_date.status_code) == (400, 400)
    assert "unknown tie" in bad_tie.text
    assert "Traceback" not in bad_tie.text
    assert "since must be a date" in bad_date.text
    assert past_end.status_code == 404
    assert "the last is 1" in past_end.text
    assert unknown.status_code == 404
    assert "there is no article 999999" in unknown.text
    assert not_a_number.status_code == 404
    policy = inbox.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert inbox.headers["x-content-type-options"] == "nosniff"


def test_an_article_shows_its_evidence_and_a_title_with_a_script_as_text(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    hostile = int(
        str(scalar(database_url, "SELECT id FROM items WHERE url LIKE 'https://hostile%'"))
    )
    ((evidence,),) = query(database_url, f"SELECT evidence FROM items WHERE id = {troops}")
    with serving(config) as base:
        article = httpx.get(f"{base}/items/{troops}")
        inbox = httpx.get(f"{base}/")
        script = httpx.get(f"{base}/items/{hostile}")

    assert article.status_code == 200
    marked = re.findall(r"<mark>(.*?)</mark>", article.text, re.S)
    assert marked, "the evidence sentences are highlighted"
    assert any(sentence[:40] in article.text for sentence in _list(evidence))
    assert "<script>" not in inbox.text
    assert "<script>" not in script.text
    assert "&lt;script&gt;document.title=" in script.text
    assert HOSTILE.split("</script>")[1].strip() in script.text


def test_a_mark_needs_its_csrf_token_and_then_does_what_items_mark_does(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    football = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{FOOTBALL}'")))
    with serving(config) as base, httpx.Client(base_url=base) as browser:
        page = browser.get(f"/items/{troops}")
        token = _TOKEN.search(page.text)
        assert token is not None
        forged = httpx.post(
            f"{base}/items/{troops}/mark", data={"mark": "irrelevant", "csrf": token[1]}
        )
        missing = browser.post(f"/items/{troops}/mark", data={"mark": "irrelevant"})
        refused = browser.post(
            f"/items/{troops}/mark", data={"mark": "irrelevant", "csrf": token[1]}
        )
        rescued = browser.post(
            f"/items/{football}/mark",
            data={"mark": "relevant", "label": "inter-korean", "csrf": token[1], "back": "inbox"},
        )
        after = browser.get(f"/items/{troops}")

    assert forged.status_code == 403, "a token without its cookie is refused"
    assert missing.status_code == 403
    assert refused.status_code == 303
    assert refused.headers["location"].startswith(f"/items/{troops}")
    assert rescued.status_code == 303
    assert rescued.headers["location"].startswith("/?")
    marks = query(database_url, "SELECT item_id, mark, labels FROM marks ORDER BY id")
    assert [(int(str(i)), m) for i, m, _l in marks] == [
        (troops, "irrelevant"),
        (football, "relevant"),
    ]
    rows = {row["url"]: row for row in manifest_by_file(seed_corpus).values()}
    troops_row = next(row for url, row in rows.items() if str(url).endswith(TROOPS))
    football_row = next(row for url, row in rows.items() if str(url).endswith(FOOTBALL))
    assert troops_row["user_mark"] == "irrelevant"
    assert football_row["user_mark"] == "relevant", "marking relevant filed it"
    assert football_row["labels"] == ["inter-korean"]
    assert "your mark: irrelevant" in after.text
    taught = int(str(scalar(database_url, "SELECT count(*) FROM taught_models")))
    assert taught >= 1, "the marks refitted the model"


def test_other_addresses_need_a_password_and_then_a_login(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    refused = run_watcher("serve", "--listen", f"0.0.0.0:{free_port()}", config=config)
    assert refused.returncode == 2
    assert "set WATCHER_WEB_PASSWORD" in refused.stderr
    assert "Traceback" not in refused.stderr

    served = serving(config, password="correct horse", host="0.0.0.0")
    with served as base, httpx.Client(base_url=base) as browser:
        health = browser.get("/healthz")
        gate = browser.get("/")
        blind_post = browser.post("/items/1/mark", data={"mark": "relevant"})
        form = browser.get("/login")
        token = _TOKEN.search(form.text)
        assert token is not None
        wrong = browser.post("/login", data={"password": "wrong", "csrf": token[1]})
        right = browser.post("/login", data={"password": "correct horse", "csrf": token[1]})
        inside = browser.get("/")
        out = browser.post("/logout", data={"csrf": token[1]})
        after = browser.get("/")

    assert health.status_code == 200, "/healthz needs no login"
    assert gate.status_code == 303
    assert gate.headers["location"] == "/login"
    assert blind_post.status_code == 401
    assert wrong.status_code == 401
    assert "not the one" in wrong.text
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert inside.status_code == 200
    assert "Inbox" in inside.text
    assert out.status_code == 303
    assert after.status_code == 303, "logged out"


def _list(value: object) -> list[str]:
    """A JSON column as either database returns it."""
    loaded = json.loads(value) if isinstance(value, str) else value
    return [str(sentence) for sentence in loaded] if isinstance(loaded, list) else []


def test_near_misses_search_sources_and_overview(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    with serving(config) as base:
        near = httpx.get(f"{base}/near-misses")
        found = httpx.get(f"{base}/search", params={"q": "러시아"})
        phrase = httpx.get(f"{base}/search", params={"q": '"reopen the hotline"'})
        none = httpx.get(f"{base}/search", params={"q": "zanzibar"})
        bad = httpx.get(f"{base}/search", params={"q": "x", "tie": "nope"})
        sources = httpx.get(f"{base}/sources")
        overview = httpx.get(f"{base}/overview")

    assert near.status_code == 200
    assert NEAR in near.text
    assert "suggests Inter-Korean" in near.text
    assert "West Ham" not in near.text, "an article with nothing of the beat is no near miss"
    assert KOREAN in found.text
    assert "<mark>러시아" in found.text
    assert "Seoul and Pyongyang reopen the hotline" in phrase.text
    assert "Nothing found." in none.text
    assert bad.status_code == 400
    assert "Institute" in sources.text
    assert "ok" in sources.text
    assert "entries waiting" in sources.text
    assert overview.status_code == 200
    assert overview.text.count("<polyline") == 3, "one line per tie"
    assert "Russia\N{EN DASH}North Korea: " in overview.text


def test_the_digest_links_each_article_to_its_page_and_a_get_changes_nothing(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    near = int(str(scalar(database_url, "SELECT id FROM items WHERE url LIKE 'https://near%'")))
    with serving(config) as base:
        config.write_text(config.read_text() + f'\n[web]\nbase_url = "{base}/"\n')
        text = run_watcher("digest", "--since", "2000-01-01", "--preview", "-", config=config)
        html_path = tmp_path / "digest.html"
        html = run_watcher(
            "digest", "--since", "2000-01-01", "--preview", str(html_path), config=config
        )
        assert text.returncode == 0, text.stderr
        assert html.returncode == 0, html.stderr
        links = re.findall(rf"{re.escape(base)}/items/\d+", text.stdout)
        opened = [httpx.get(link) for link in links]

    assert f"Item {troops}: {base}/items/{troops}" in text.stdout
    assert f"Rescue: {base}/items/{near}" in text.stdout
    assert f'href="{base}/items/{troops}"' in html_path.read_text(encoding="utf-8")
    assert opened, "the digest has links to the page"
    assert all(response.status_code == 200 for response in opened)
    assert scalar(database_url, "SELECT count(*) FROM marks") == 0, "a GET marks nothing"
