"""A shared deployment: schema upgrades by command, two writers on one database, the
Atom stream (by command and from the daemon), and the files in deploy/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import ROOT, query, run_watcher, shared_path, write_config
from tests.services import free_port, get_text, running_daemon, stop, wait_for
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss
from watcher.config import load_config
from watcher.store.db import current_revision, head_revision, open_engine, upgrade

RELEVANT = [
    "eco20-2020-06-20-liaison-office",
    "pen0-2024-12-04-north-korean-troops-in-russia",
    "kcna-2024-07-19-113",
]
IRRELEVANT = ["kcna-2024-09-16-1078", "baram-044_0000278353"]


def test_a_schema_behind_is_refused_with_the_command_and_upgraded_by_it(
    database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(database_url, migrate=False)
    upgrade(engine, "0006")
    engine.dispose()
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=tmp_path / "c", sources=[]
    )

    refused = run_watcher("fetch", config=config)
    upgraded = run_watcher("db", "upgrade", config=config)
    again = run_watcher("db", "upgrade", config=config)
    works = run_watcher("fetch", config=config)

    assert refused.returncode == 2
    assert "is at schema 0006, this watcher needs" in refused.stderr
    assert "run `watcher db upgrade`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from schema 0006 to {head_revision()}" in upgraded.stdout
    assert "already" in again.stdout
    assert works.returncode == 0, works.stderr
    engine = open_engine(database_url, migrate=False)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_an_empty_database_needs_no_command(database_url: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=tmp_path / "c", sources=[]
    )
    assert run_watcher("fetch", config=config).returncode == 0
    assert query(database_url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def _site_with_sources(site: Site, count: int) -> list[dict[str, object]]:
    """``count`` feeds, every one listing the same articles (syndication at its worst)."""
    shared_path("eval", "relevance", "articles.jsonl")
    articles = relevance_articles(RELEVANT + IRRELEVANT)
    items = []
    for article_id, article in articles.items():
        paragraphs = [line for line in article["text"].splitlines() if line.strip()]
        link = site.add_page(
            Page(f"/a/{article_id}", article_html(article["title"], paragraphs).encode())
        )
        items.append(FeedItem(link, article["title"], guid=article_id, published=recent()))
    body = rss(items)
    return [
        {"name": f"Mirror {n}", "url": site.add_feed(f"/feed{n}.xml", body)} for n in range(count)
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_writers_on_one_postgresql_store_each_article_once(
    threaded_server: HTTPServer, database_url: str, tmp_path: Path
) -> None:
    """Two processes at once, each with its own corpus folder (their pass locks do not
    meet), the same 50 feeds: the database alone keeps each article once."""
    site = Site(threaded_server)
    sources = _site_with_sources(site, 50)
    folders = [tmp_path / "corpus-a", tmp_path / "corpus-b"]
    configs = [
        write_config(
            tmp_path / f"w{n}.toml", database_url=database_url, corpus=folder, sources=sources
        )
        for n, folder in enumerate(folders)
    ]
    open_engine(database_url).dispose()  # made at head first: the race is over articles
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "watcher", "-v", "fetch"],
            env={**env, "WATCHER_CONFIG": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for config in configs
    ]
    outputs = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    urls = [url for (url,) in query(database_url, "SELECT url FROM items WHERE NOT is_seed")]
    assert len(urls) == len(set(urls)) == len(RELEVANT + IRRELEVANT), "each article once"
    entries = query(
        database_url, "SELECT source_id, entry_key, count(*) FROM entries GROUP BY 1, 2"
    )
    assert all(count == 1 for *_key, count in entries)
    assert len(entries) == 50 * 5
    files = [p.name for folder in folders for p in folder.glob("[0-9][0-9][0-9]_*.txt")]
    filed = query(database_url, "SELECT file FROM items WHERE file IS NOT NULL")
    assert sorted(files) == sorted(name for (name,) in filed), "each filed article once"
    for _out, err in outputs:
        assert "Traceback" not in err
        assert "IntegrityError" not in err
        assert '"level": "error"' not in err


def _beat(
    site: Site, seed_corpus: Path, database_url: str, tmp_path: Path, **tables: dict[str, object]
) -> Path:
    (source,) = _site_with_sources(site, 1)
    return write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=seed_corpus,
        sources=[source],
        tables=tables or None,
    )


def test_the_atom_export_holds_exactly_the_relevant_articles(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    config = _beat(Site(httpserver), seed_corpus, database_url, tmp_path)
    assert run_watcher("fetch", config=config).returncode == 0
    relevant = {
        str(url): json.loads(labels) if isinstance(labels, str) else labels
        for url, labels in query(
            database_url, "SELECT url, labels FROM items WHERE relevant AND NOT is_seed"
        )
    }
    assert relevant

    done = run_watcher("export", "atom", config=config)
    by_tie = run_watcher("export", "atom", "--label", "russia-nk", config=config)
    bad = run_watcher("export", "atom", "--label", "china-us", config=config)

    assert done.returncode == 0, done.stderr
    feed = feedparser.parse(done.stdout)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert {entry.link for entry in feed.entries} == set(relevant)
    for entry in feed.entries:
        assert {tag.term for tag in entry.tags} == set(relevant[entry.link])
        assert len(entry.summary) > 40
        assert entry.updated_parsed is not None
    tied = feedparser.parse(by_tie.stdout)
    assert {e.link for e in tied.entries} == {u for u, ls in relevant.items() if "russia-nk" in ls}
    assert bad.returncode == 2
    assert "unknown tie 'china-us'" in bad.stderr


def test_the_daemon_serves_the_atom_stream(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    tables = {"daemon": {"listen": f"127.0.0.1:{port}"}, "schedule": {"check_seconds": 0.2}}
    config = _beat(Site(threaded_server), seed_corpus, database_url, tmp_path, **tables)
    base = f"http://127.0.0.1:{port}"
    with running_daemon(config) as daemon:
        wait_for(lambda: '"passes": 1' in str(get_text(f"{base}/healthz")), "a pass done")
        served = httpx.get(f"{base}/feed.atom")
        unknown = httpx.get(f"{base}/feed.atom?label=nonsense")
        code, _events = stop(daemon)
    assert code == 0
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(served.text)
    relevant = query(database_url, "SELECT url FROM items WHERE relevant AND NOT is_seed")
    assert {e.link for e in feed.entries} == {url for (url,) in relevant}
    assert unknown.status_code == 404


# --- deploy/ ---------------------------------------------------------------------------


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    unit = (ROOT / "deploy" / "watcher.service").read_text(encoding="utf-8")
    for needed in ("Restart=on-failure", "User=watcher", "ProtectSystem=strict", "ReadWritePaths="):
        assert needed in unit
    # the unit names the installed path; verify checks that the program exists
    local = unit.replace(
        "/opt/watcher/.venv/bin/watcher", str(Path(sys.executable).parent / "watcher")
    )
    path = tmp_path / "watcher.service"
    path.write_text(local, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in done.stderr.splitlines() if "watcher.service" in line]
    assert done.returncode == 0, done.stderr
    assert problems == [], "no unknown key, no value systemd cannot parse"


def test_the_compose_file_container_and_environment_agree() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "scheduler", "worker", "watcher"}
    assert services["watcher"]["profiles"] == ["single"], "all-in-one only when asked for"
    assert services["scheduler"]["command"] == ["scheduler"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "volumes" not in services["worker"], "workers never write the corpus"
    for name in ("scheduler", "worker", "watcher"):
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        url = service["environment"]["WATCHER_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://")
        assert (ROOT / "deploy" / service["build"]["dockerfile"].split("/")[-1]).exists()
    for name in ("scheduler", "watcher"):
        assert any(v.endswith(":/var/lib/watcher/corpus") for v in services[name]["volumes"])
    container = (ROOT / "deploy" / "Containerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in container.splitlines()]
    assert "USER watcher" in lines, "not root"
    assert any(line.startswith("VOLUME") and "/var/lib/watcher/corpus" in line for line in lines)
    assert 'ENTRYPOINT ["watcher"]' in lines
    assert any(line.startswith("RUN pip install") and "scale" in line for line in lines)


def test_every_variable_in_the_example_environment_is_one_watcher_reads(tmp_path: Path) -> None:
    example = (ROOT / "deploy" / "watcher.env.example").read_text(encoding="utf-8")
    variables = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    config_file = tmp_path / "w.toml"
    config_file.write_text("", encoding="utf-8")
    config = load_config(config_file, environ=variables)
    assert config.storage.database_url == variables["WATCHER_DATABASE_URL"]
    assert str(config.storage.corpus_dir) == variables["WATCHER_CORPUS_DIR"]
    assert config.daemon.listen == variables["WATCHER_LISTEN"]
    assert (config.smtp.host, str(config.smtp.port)) == (
        variables["WATCHER_SMTP_HOST"],
        variables["WATCHER_SMTP_PORT"],
    )
    assert config.smtp.username == variables["WATCHER_SMTP_USERNAME"]
    assert "WATCHER_SMTP_PASSWORD" in variables
