"""The review page in a real browser: Playwright driving Debian's Chromium (no browser
download), against `watcher serve` after a real `watcher fetch`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_httpserver import HTTPServer

from tests.conftest import manifest_by_file, query, scalar
from tests.web.served import HOSTILE, KOREAN, NEAR, TROOPS, fetched, serving


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("WATCHER_TEST_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_read_filter_open_and_mark_an_article_in_a_browser(
    browser: Browser,
    threaded_server: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    with serving(config) as base:
        page = browser.new_page()
        page.goto(base)
        assert page.title() == "Inbox · watcher", "no script from a feed ran"
        assert page.get_by_text(HOSTILE.split("</script>")[1].strip()).count() == 1

        page.select_option("select[name=tie]", "russia-nk")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**tie=russia-nk**")
        page.locator(f'a.title[href="/items/{troops}"]').click()
        page.wait_for_url(f"**/items/{troops}")
        evidence = page.locator(".text mark")
        assert evidence.count() >= 1
        assert evidence.first.is_visible()

        page.get_by_role("button", name="Not relevant").click()
        page.wait_for_url(f"**/items/{troops}?marked={troops}*")
        assert "your mark: irrelevant" in page.inner_text(".verdict")

    assert scalar(database_url, f"SELECT user_mark FROM items WHERE id = {troops}") == "irrelevant"
    rows = manifest_by_file(seed_corpus).values()
    assert next(r for r in rows if str(r["url"]).endswith(TROOPS))["user_mark"] == "irrelevant"


def test_rescue_a_near_miss_and_search_a_korean_word_in_a_browser(
    browser: Browser,
    threaded_server: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    before = set(seed_corpus.glob("[0-9][0-9][0-9]_*.txt"))
    with serving(config) as base:
        page = browser.new_page()
        page.goto(f"{base}/near-misses")
        row = page.locator(".row", has_text=NEAR)
        row.get_by_role("button", name="Rescue").click()
        page.wait_for_url("**/near-misses?marked=*")
        assert page.locator(".row", has_text=NEAR).count() == 0, "rescued: no longer a miss"

        page.goto(f"{base}/search")
        page.fill("input[name=q]", "러시아")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/search?q=*")
        hit = page.locator(".hit", has_text=KOREAN)
        assert hit.count() == 1
        assert hit.locator("mark").first.inner_text().startswith("러시아")

    new = set(seed_corpus.glob("[0-9][0-9][0-9]_*.txt")) - before
    firsts = [path.read_text(encoding="utf-8").splitlines()[0] for path in new]
    assert NEAR in firsts, "the rescued article was filed"
    sql = "SELECT user_mark, user_labels FROM items WHERE url = 'https://near.example/1'"
    (mark, labels) = query(database_url, sql)[0]
    assert mark == "relevant"
    assert "inter-korean" in str(labels), "the suggested tie went with the rescue"


def test_the_inbox_fits_a_phone_screen(
    browser: Browser,
    threaded_server: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    with serving(config) as base:
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        for path in ("/", f"/items/{_any_item(database_url)}", "/near-misses", "/overview"):
            phone.goto(f"{base}{path}")
            assert _no_horizontal_scroll(phone), path


def _any_item(database_url: str) -> int:
    return int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))


def _no_horizontal_scroll(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_with_a_password_the_browser_must_log_in_and_a_forged_post_is_refused(
    browser: Browser,
    threaded_server: HTTPServer,
    seed_corpus: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = fetched(threaded_server, seed_corpus, database_url, tmp_path)
    troops = int(str(scalar(database_url, f"SELECT id FROM items WHERE url LIKE '%/{TROOPS}'")))
    with serving(config, password="correct horse", host="0.0.0.0") as base:
        page = browser.new_page()
        page.goto(f"{base}/items/{troops}")
        assert page.url == f"{base}/login", "a page without a login sends to the login"
        page.fill("input[name=password]", "wrong")
        page.get_by_role("button", name="Log in").click()
        assert "not the one" in page.inner_text("main")
        page.fill("input[name=password]", "correct horse")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/")
        assert page.locator("h1").inner_text().startswith("Inbox")

        # Logged in, a POST without the form's token (as another site would send it).
        forged = page.request.post(f"{base}/items/{troops}/mark", form={"mark": "irrelevant"})
        assert forged.status == 403

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{base}/login")

    assert scalar(database_url, "SELECT count(*) FROM marks") == 0
