"""Shared fixtures: the ../shared materials, databases, corpus folders, configs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from watcher.dedup.neardup import NearDupRule
from watcher.dedup.urls import file_key
from watcher.store import NewItem, Store
from watcher.store.db import open_engine

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WATCHER_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a skip with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared materials sit beside the checkout in CI")
    return path


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A temporary copy of the user's seed corpus."""
    seeds = shared_path("seeds")
    folder = tmp_path / "corpus"
    shutil.copytree(seeds, folder)
    return folder


def _postgres_url() -> str | None:
    return os.environ.get("WATCHER_TEST_POSTGRES_URL") or None


def _database_params() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    params.append(
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(
                _postgres_url() is None, reason="WATCHER_TEST_POSTGRES_URL is not set"
            ),
        )
    )
    return params


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'watcher.db'}"
        return
    base = _postgres_url()
    if base is None:  # asked for by name (a PostgreSQL-only test): as the parameters say
        pytest.skip("WATCHER_TEST_POSTGRES_URL is not set")
    name = f"watcher_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store on a fresh database at the current schema, closed after the test."""
    opened = Store(open_engine(database_url))
    try:
        yield opened
    finally:
        opened.close()


def text_item(url: str, body: str, *, title: str | None = None, **changes: object) -> NewItem:
    """An item as a pass would store it for this text (fingerprints included), relevant
    unless ``changes`` say otherwise."""
    fingerprint = NearDupRule().fingerprint(body)
    values: dict[str, object] = {
        "key": file_key(url),
        "url": url,
        "aliases": (url,),
        "title": title,
        "text": body,
        "text_hash": fingerprint.text_hash,
        "paragraph_hashes": fingerprint.paragraphs,
        "bands": fingerprint.bands,
        "authors": (),
        "published": None,
        "fetched": datetime(2026, 11, 22, 7, 0, tzinfo=UTC),
        "language": "en",
        "source_name": "S",
        "relevant": True,
        "score": 0.9,
        "labels": (),
        "evidence": (),
    }
    return NewItem(**{**values, **changes})  # type: ignore[arg-type]


def query(database_url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of one SQL query on the database a test's watcher wrote to."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def manifest_rows(folder: Path) -> list[dict[str, object]]:
    """The corpus folder's manifest.jsonl, a dict per line, in file order."""
    lines = (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def manifest_by_file(folder: Path) -> dict[str, dict[str, object]]:
    return {str(row["file"]): row for row in manifest_rows(folder)}


def scalar(database_url: str, sql: str) -> object:
    rows = query(database_url, sql)
    return rows[0][0] if rows else None


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_config(
    path: Path,
    *,
    database_url: str,
    corpus: Path,
    sources: list[dict[str, object]],
    http: dict[str, object] | None = None,
    storage: dict[str, object] | None = None,
    tables: dict[str, dict[str, object]] | None = None,
) -> Path:
    """A configuration for tests: loopback allowed, no politeness delay, short deadlines;
    ``tables`` adds others (``{"schedule": {...}}``)."""
    tables: dict[str, dict[str, object]] = {
        "storage": {"database_url": database_url, "corpus_dir": corpus, **(storage or {})},
        "http": {
            "allowed_networks": ["127.0.0.0/8"],
            "per_host_delay": 0,
            "timeout": 5,
            "deadline": 10,
            **(http or {}),
        },
        **(tables or {}),
    }
    lines: list[str] = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {_toml(value)}" for key, value in source.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def feed_config(tmp_path: Path, *, database_url: str, corpus: Path, feed: str) -> Path:
    """``write_config`` with one source, the feed at ``feed``: what most end-to-end tests
    of one site need."""
    return write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=corpus,
        sources=[{"name": "S", "url": feed}],
    )


def run_watcher(
    *args: str,
    config: Path | None = None,
    timeout: float = 300,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m watcher`` as a user runs it, with a deadline that only catches hangs;
    ``env`` adds variables (the test's own WATCHER_ variables are not passed on)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    environ.update(env or {})
    if config is not None:
        environ["WATCHER_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def threaded_server() -> Iterator[object]:
    """A pytest-httpserver that answers requests concurrently, so one slow handler (a
    dripping source) does not hold up the others."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
