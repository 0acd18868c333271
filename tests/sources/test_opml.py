"""OPML import and export: real exports from feed readers, a round trip, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_watcher, shared_path
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.sources.opml import OpmlError, OpmlFeed, export_opml, import_opml, read_opml

REAL = [
    "picofeed/subscriptionList.opml",
    "picofeed/tinytinyrss.opml",
    "picofeed/google-reader.opml",
    "picofeed/newsbeuter.opml",
    "rsparser/Subs.opml",
    "plenaryapp-awesome-rss-feeds/Japan.opml",
    "plenaryapp-awesome-rss-feeds/News.opml",
    "plenaryapp-awesome-rss-feeds/United_States.opml",
    "plenaryapp-awesome-rss-feeds/Hong_Kong_SAR_China.opml",
    "plenaryapp-awesome-rss-feeds/Ukraine.opml",
    "plenaryapp-awesome-rss-feeds/Russia.opml",
]


def _config(tmp_path: Path) -> Path:
    """A copy of the shipped configuration, comments and all."""
    path = tmp_path / "watcher.toml"
    shutil.copy(ROOT / "config" / "watcher.toml", path)
    return path


@pytest.mark.parametrize("name", REAL)
def test_every_real_opml_file_imports_and_what_it_could_not_read_is_said(
    tmp_path: Path, name: str
) -> None:
    data = shared_path("feeds", "opml", *name.split("/")).read_bytes()
    outlines = data.count(b"xmlUrl=") + data.count(b"xmlurl=")
    path = _config(tmp_path)
    before = path.read_text(encoding="utf-8")

    document = read_opml(data, origin=name)
    report = import_opml(path, document.feeds)

    assert len(document.feeds) + (1 if document.problems else 0) >= outlines
    assert all(problem.startswith(f"{name}: line ") for problem in document.problems)
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")), "the file's own text and comments are kept"
    config = load_config(path)
    assert len(config.sources) == 41 + len(report.added)
    assert len(report.added) + len(report.skipped) == len(document.feeds)


def test_a_damaged_export_loses_at_most_the_damaged_outline_and_says_where() -> None:
    data = shared_path("feeds", "opml", "plenaryapp-awesome-rss-feeds", "Russia.opml").read_bytes()
    document = read_opml(data, origin="Russia.opml")
    assert data.count(b"xmlUrl=") - len(document.feeds) == 1
    assert document.problems
    assert document.problems[0].startswith("Russia.opml: line 20:")
    assert {feed.tags for feed in document.feeds} == {("russia",)}, "the folder is the tag"


def test_export_then_import_changes_nothing(tmp_path: Path) -> None:
    path = _config(tmp_path)
    before = path.read_text(encoding="utf-8")
    exported = export_opml(list(load_config(path).sources))

    document = read_opml(exported.encode())
    report = import_opml(path, document.feeds)

    assert document.problems == ()
    assert report.added == []
    assert len(report.skipped) == 41
    assert path.read_text(encoding="utf-8") == before
    first = document.feeds[0]
    source = load_config(path).sources[0]
    assert (first.name, first.url, first.language) == (
        source.name,
        source.feed_url,
        source.language,
    )
    assert first.tags == tuple(source.tags)


def test_names_that_clash_are_numbered_and_bad_urls_skipped(tmp_path: Path) -> None:
    path = _config(tmp_path)
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline text="Korea" title="Korea">
        <outline text="NK News" xmlUrl="https://other.example.org/nk.xml" />
        <outline text="Gopher" xmlUrl="gopher://example.org/feed" />
        <outline text='Quote "this" &amp; that' xmlUrl="https://example.org/q.xml"
                 htmlUrl="javascript:alert(1)" category="/Analysis/North Korea" />
      </outline></body></opml>"""

    report = import_opml(path, read_opml(opml).feeds)

    assert [feed.url for feed in report.added] == [
        "https://other.example.org/nk.xml",
        "https://example.org/q.xml",
    ]
    assert report.skipped == [("Gopher", "not an http(s) URL: gopher://example.org/feed")]
    sources = {source.name: source for source in load_config(path).sources}
    assert sources["NK News (2)"].feed_url == "https://other.example.org/nk.xml"
    quoted = sources['Quote "this" & that']
    assert quoted.homepage is None, "a javascript: homepage is not written"
    assert quoted.tags == ["korea", "north-korea"]


def test_a_file_that_is_not_opml_is_a_clear_error() -> None:
    with pytest.raises(OpmlError, match="not OPML"):
        read_opml(b"<rss><channel/></rss>", origin="feed.xml")
    with pytest.raises(OpmlError, match="not XML"):
        read_opml(b"", origin="empty.opml")


def test_an_import_that_would_not_load_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = _config(tmp_path)
    before = path.read_text(encoding="utf-8")
    nameless = OpmlFeed("", "https://x.example.org/f", None, (), None)  # names are required
    with pytest.raises(ConfigError, match="the import would not load"):
        import_opml(path, [nameless])
    assert path.read_text(encoding="utf-8") == before
    assert not list(tmp_path.glob(".*.import"))


def test_the_commands_import_and_export(tmp_path: Path) -> None:
    path = _config(tmp_path)
    opml = shared_path("feeds", "opml", "rsparser", "Subs.opml")

    imported = run_watcher("sources", "import", str(opml), config=path)
    exported = run_watcher("sources", "export", config=path)
    again = run_watcher("sources", "import", str(opml), config=path)
    missing = run_watcher("sources", "import", str(tmp_path / "none.opml"), config=path)

    assert imported.returncode == 0, imported.stderr
    added = imported.stdout.count("\nadded ") + imported.stdout.startswith("added ")
    assert f"{added} added to {path}" in imported.stdout
    assert added > 0
    assert exported.returncode == 0
    assert exported.stdout.count("<outline ") == 41 + added
    assert f"0 added to {path}, {len(read_opml(opml.read_bytes()).feeds)} skipped" in again.stdout
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
