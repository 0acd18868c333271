"""The program's first lines find the command before anything heavy is imported, and the
commands an analyst types often import only what they use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import run_watcher, scalar, write_config
from tests.site import Page, Site, article_html
from watcher.services.startup import _command


@pytest.mark.parametrize(
    ("arguments", "command"),
    [
        (["run"], "run"),
        (["--config", "run.toml", "fetch"], "fetch"),
        (["-v", "--config", "/etc/watcher.toml", "run"], "run"),
        (["--config=x.toml", "run"], "run"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_is_the_first_argument_that_is_no_global_option(
    arguments: list[str], command: str | None
) -> None:
    assert _command(arguments) == command


# Run the command line in-process, then list every module it imported.
_PROBE = """
import json, sys
from watcher.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""
_HEAVY = ("trafilatura", "lxml", "numpy", "alembic", "watcher.pipeline", "watcher.extraction")


def _imported(
    config: Path, *arguments: str, heavy: tuple[str, ...] = _HEAVY
) -> tuple[str, set[str]]:
    """The command's output, and the top names of the ``heavy`` modules it imported."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    environ["WATCHER_CONFIG"] = str(config)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *arguments],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=True,
    )
    *said, listed = done.stdout.strip().splitlines()
    modules = [name for name in json.loads(listed) if name.startswith(heavy)]
    return "\n".join(said), {name.split(".")[0] for name in modules} | {
        name for name in modules if name.startswith("watcher.")
    }


def test_the_commands_an_analyst_types_often_import_no_part_of_the_pass(
    httpserver: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """`watcher --help`, `items list`, `status`, `sources list` and `items mark` start in
    half a second because they import no extractor, no pipeline and (but for marking,
    which fingerprints the corpus folder) no numpy; a database at head needs no Alembic,
    and one on SQLite no PostgreSQL dialect."""
    site = Site(httpserver)
    page = site.add_page(Page("/bus", article_html("Winter buses", [_BUSES] * 4).encode()))
    config = write_config(
        tmp_path / "w.toml", database_url=database_url, corpus=seed_corpus, sources=[]
    )
    assert run_watcher("fetch", "--url", page, config=config).returncode == 0
    item = scalar(database_url, "SELECT id FROM items WHERE NOT is_seed")

    # On SQLite, not even SQLAlchemy's PostgreSQL dialect.
    dialect = ("sqlalchemy.dialects.postgresql",) if database_url.startswith("sqlite") else ()
    for command in (["--help"], ["items", "list", "--all"], ["status"], ["sources", "list"]):
        said, heavy = _imported(config, *command, heavy=(*_HEAVY, *dialect))
        assert said, command
        assert heavy == set(), command
    said, heavy = _imported(config, "items", "mark", str(item), "irrelevant")
    assert f"item {item} marked irrelevant" in said
    assert heavy == {"numpy"}


def test_help_imports_neither_the_store_nor_the_configuration(tmp_path: Path) -> None:
    """`watcher --help` is typer and rich alone: asyncio, jinja2 (a digest's subject),
    SQLAlchemy and pydantic are imported by the commands that use them."""
    config = write_config(
        tmp_path / "w.toml", database_url="sqlite://", corpus=tmp_path / "c", sources=[]
    )
    said, heavy = _imported(
        config, "--help", heavy=(*_HEAVY, "asyncio", "jinja2", "sqlalchemy", "pydantic")
    )
    assert "items" in said
    assert heavy == set()


def test_the_shipped_configuration_costs_a_command_no_template_engine(tmp_path: Path) -> None:
    """The quickstart's config/watcher.toml writes out the default digest subject; an
    `items list` with it imports no jinja2, as one with the subject left out does not."""
    shipped = Path(__file__).resolve().parents[2] / "config" / "watcher.toml"
    config = tmp_path / "config" / "watcher.toml"
    config.parent.mkdir()
    config.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    assert 'subject = "watcher, {{ date }}: {{ summary }}"' in config.read_text(encoding="utf-8")
    _imported(config, "status")  # creates the database (Alembic, once)
    for command in (["items", "list"], ["status"]):
        said, heavy = _imported(config, *command, heavy=(*_HEAVY, "jinja2"))
        assert "error" not in said.lower(), said
        assert heavy == set(), command


_BUSES = "The city council approved a new bus timetable for the winter months."


def test_the_http_client_starts_without_httpx_s_own_command_line_client() -> None:
    """httpx's __init__ would import its CLI (click, rich.syntax, pygments' lexer table:
    about 80 ms of each pass's start); watcher's fetch package keeps it out, and the
    client itself is whole."""
    probe = (
        "import sys, watcher.fetch.http, httpx\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pygments', 'rich.syntax'))))\n"
        "print(httpx.AsyncClient.__name__, callable(httpx.main))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == ["[]", "AsyncClient True"]
