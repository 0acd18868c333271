"""A database with articles in it, and `watcher serve` on it: what the page tests share."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pytest_httpserver import HTTPServer

from tests.conftest import run_watcher, scalar, text_item, write_config
from tests.services import DEADLINE, free_port, wait_for
from tests.site import Site, article_items, rss
from watcher.store import Store
from watcher.store.db import open_engine

TROOPS = "pen0-2024-12-04-north-korean-troops-in-russia"  # russia-nk
LIAISON = "eco20-2020-06-20-liaison-office"  # inter-korean
FOOTBALL = "fine-west_ham_in_talks_with_jack_wilshere_over_cancelling_100000aweek_deal"
HOSTILE = "<script>document.title='owned'</script> Seoul and Pyongyang reopen the hotline"
NEAR = "A seminar on Korean unification hears from scholars"
KOREAN = "북러 군사협력 강화"
KOREAN_TEXT = "북한과 러시아가 군사협력을 강화했다. 평양에서 러시아 대표단이 회담을 열었다. " * 4


@dataclass(frozen=True, slots=True)
class Beat:
    config: Path
    corpus: Path
    database_url: str
    base: str  # where `watcher serve` answers

    def item(self, article: str) -> int:
        sql = f"SELECT id FROM items WHERE url LIKE '%/{article}'"
        return int(str(scalar(self.database_url, sql)))


def fetched(server: HTTPServer, corpus: Path, database_url: str, tmp_path: Path) -> Path:
    """Three real articles fetched over HTTP (two on the beat), and one stored with a
    title that carries a script."""
    site = Site(server)
    url = site.add_feed("/feed.xml", rss(article_items(site, "/a", [TROOPS, LIAISON, FOOTBALL])))
    config = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=corpus,
        sources=[{"name": "Institute", "url": url}],
    )
    done = run_watcher("fetch", config=config)
    assert done.returncode == 0, done.stderr
    store = Store(open_engine(database_url))
    try:
        body = "North Korea and South Korea agreed to reopen the hotline. " * 5
        store.add_item(text_item("https://hostile.example/1", body, title=HOSTILE))
        seminar = "Scholars spoke about unification at a seminar in Berlin on Tuesday. " * 5
        store.add_item(
            text_item(
                "https://near.example/1",
                seminar,
                title=NEAR,
                relevant=False,
                score=0.42,
                tie_scores=(("inter-korean", 0.41), ("russia-nk", 0.0)),
            )
        )
        store.add_item(
            text_item(
                "https://korean.example/1",
                KOREAN_TEXT,
                title=KOREAN,
                language="ko",
                labels=("russia-nk",),
            )
        )
    finally:
        store.close()
    return config


@contextlib.contextmanager
def serving(config: Path, *, password: str | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """`watcher serve` in the background; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_CONFIG"] = str(config)
    if password is not None:
        env["WATCHER_WEB_PASSWORD"] = password
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "serve", "--listen", f"{host}:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base) or process.poll() is not None, "watcher serve answers")
        assert process.poll() is None, process.communicate(timeout=DEADLINE)[1]
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=DEADLINE)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
