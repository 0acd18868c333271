"""Configuration: the contract keys load, every mistake is named with file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_watcher, shared_path
from watcher.config import load_config
from watcher.dedup.neardup import NearDupRule
from watcher.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_loads_with_every_contract_key() -> None:
    """The shipped config validates and its relative paths resolve beside the checkout."""
    config = load_config(ROOT / "config" / "watcher.toml", environ={})
    assert config.storage.database_url == f"sqlite:///{ROOT / 'data' / 'watcher.db'}"
    assert config.storage.corpus_dir.resolve() == ROOT / "corpus"
    assert config.storage.file_all is False
    assert (config.http.deadline, config.http.allowed_networks, config.http.per_host_delay) == (
        60,
        [],
        2.0,
    )
    assert config.classify.threshold == 0.5
    assert NearDupRule.of(config.dedup) == NearDupRule(), "the shipped values are the defaults"
    assert config.digest.timezone == "Asia/Seoul"
    assert config.sources
    assert all(s.url.scheme in ("http", "https") and s.homepage for s in config.sources)


def test_the_default_sources_cover_the_beat_and_come_from_the_sources_seen() -> None:
    """At least 30 sources in the beat's languages, each feed URL one that public
    configurations or reports were seen to use (none invented)."""
    config = load_config(ROOT / "config" / "watcher.toml", environ={})
    sources = config.sources
    assert len(sources) >= 30
    assert len({s.name for s in sources}) == len(sources)
    assert len({s.feed_url for s in sources}) == len(sources)
    assert {s.language for s in sources} <= {"en", "ko", "ru", "de"}
    assert {"en", "ko", "ru"} <= {s.language for s in sources}
    table = shared_path("sources-seen.tsv").read_text(encoding="utf-8").splitlines()
    seen = {line.split("\t")[1] for line in table[1:] if "\t" in line}
    invented = [s.feed_url for s in sources if s.feed_url not in seen]
    assert invented == []
    proxies = [s.name for s in sources if "news.google.com" in s.feed_url]
    assert proxies == [], "first-party feeds only"


def test_sources_list_shows_every_default_source(tmp_path: Path) -> None:
    result = run_watcher(
        "sources",
        "list",
        config=ROOT / "config" / "watcher.toml",
        env={"WATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"},
    )
    assert result.returncode == 0, result.stderr
    names = [s.name for s in load_config(ROOT / "config" / "watcher.toml", environ={}).sources]
    assert all(name in result.stdout for name in names)
    assert result.stdout.count("never polled") == len(names)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[storage]\ncorpus_dri = 'x'\n", "storage.corpus_dri: unknown key"),
        ("[http]\ntimeout = -1\n", "http.timeout"),
        ("[http]\nallowed_networks = ['not-a-cidr']\n", "http.allowed_networks"),
        ("[classify]\nthreshold = 2\n", "classify.threshold"),
        ("[dedup]\nmin_coverage = 1.5\n", "dedup.min_coverage"),
        ("[dedup]\nbands = 0\n", "dedup.bands"),
        ("[daemon]\nlisten = 'nowhere'\n", "daemon.listen"),
        ("[schedule]\nshortest_minutes = 90\nlongest_minutes = 60\n", "shortest_minutes is"),
        ("[smtp]\nstarttls = true\nimplicit_tls = true\n", "cannot both be true"),
        (
            "[[sources]]\nname = 'x'\nurl = 'ftp://x.example/feed'\n",
            "[[sources]] 'x' (the 1st).url",
        ),
        ("[[sources]]\nname = 'x'\n", "[[sources]] 'x' (the 1st).url: Field required"),
        (
            "[[sources]]\nname = 'a'\nurl = 'https://a.example/f'\n"
            "[[sources]]\nname = '38 North'\nurl = 'https://b.example/f'\nbogus_key = 1\n",
            "[[sources]] '38 North' (the 2nd).bogus_key: unknown key",
        ),
        ("[storage\n", "not valid TOML"),
        ("unknown_table = 1\n", "unknown_table: unknown key"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(path) in str(caught.value)
    assert needle in str(caught.value)


def test_two_sources_with_one_name_are_rejected(tmp_path: Path) -> None:
    text = "[[sources]]\nname = 'a'\nurl = 'https://a.example/f'\n" * 2
    with pytest.raises(ConfigError, match="two sources"):
        load_config(_write(tmp_path, text), environ={})


def test_environment_overrides_storage(tmp_path: Path) -> None:
    """WATCHER_DATABASE_URL and WATCHER_CORPUS_DIR win over the file."""
    path = _write(tmp_path, "[storage]\ndatabase_url = 'sqlite:///file.db'\ncorpus_dir = 'c'\n")
    config = load_config(
        path,
        environ={"WATCHER_DATABASE_URL": "sqlite:///env.db", "WATCHER_CORPUS_DIR": "/srv/corpus"},
    )
    assert config.storage.database_url == "sqlite:///env.db"
    assert config.storage.corpus_dir == Path("/srv/corpus")
    plain = load_config(path, environ={})
    assert plain.storage.database_url == f"sqlite:///{tmp_path / 'file.db'}"
    assert plain.storage.corpus_dir == tmp_path / "c"


def test_cli_reports_a_bad_config_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "[http]\nper_host_dely = 1\n")
    result = run_watcher("--config", str(path), "fetch")
    assert result.returncode == 2
    assert "http.per_host_dely: unknown key" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reads_watcher_config_and_rejects_unknown_source(tmp_path: Path) -> None:
    path = _write(tmp_path, f"[storage]\ndatabase_url = 'sqlite:///{tmp_path}/w.db'\n")
    result = run_watcher("fetch", "--source", "Nope", config=path)
    assert result.returncode == 2
    assert "unknown source 'Nope'" in result.stderr


def test_cli_missing_config_file(tmp_path: Path) -> None:
    result = run_watcher("--config", str(tmp_path / "absent.toml"), "fetch")
    assert result.returncode == 2
    assert "file not found" in result.stderr
