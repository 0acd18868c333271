"""The user's marks through the CLI: they file, keep, show in the manifest, and teach."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import feed_config, manifest_by_file, query, run_watcher, scalar, write_config
from tests.site import FeedItem, Page, Site, article_html, recent, relevance_articles, rss

RELEVANT = "pen0-2024-12-04-north-korean-troops-in-russia"
OTHER = "eco20-2020-06-20-liaison-office"
OFF_BEAT = "Local council approves new budget for parks"


def _watcher_files(_folder: str, names: list[str]) -> list[str]:
    """The seeds only: leave out what watcher filed and its manifest."""
    return [n for n in names if n == "manifest.jsonl" or (n[:3].isdigit() and int(n[:3]) >= 5)]


def test_marks_file_keep_and_show_in_the_manifest(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    on_beat = site.add_page(Page("/on", article_html(article["title"], paragraphs).encode()))
    parks = ["The council voted for more benches and longer library hours this spring."] * 30
    off_beat = site.add_page(Page("/off", article_html(OFF_BEAT, parks).encode()))
    items = [
        FeedItem(on_beat, "On", guid="on", published=recent()),
        FeedItem(off_beat, "Off", guid="off", published=recent()),
    ]
    url = site.add_feed("/feed.xml", rss(items))
    config = feed_config(tmp_path, database_url=database_url, corpus=seed_corpus, feed=url)
    assert run_watcher("fetch", config=config).returncode == 0
    (filed,) = seed_corpus.glob("005_*.txt")
    listed = run_watcher("items", "list", "--all", config=config)
    assert listed.returncode == 0, listed.stderr
    assert "troops" in listed.stdout.lower()

    relevant = run_watcher(
        "items", "mark", off_beat, "relevant", "--label", "inter-korean", config=config
    )
    assert relevant.returncode == 0, relevant.stderr
    assert "filed as 006_" in relevant.stdout
    irrelevant = run_watcher("items", "mark", filed.name, "irrelevant", config=config)
    assert irrelevant.returncode == 0, irrelevant.stderr

    assert filed.exists(), "a file marked irrelevant stays: the corpus is the user's"
    manifest = manifest_by_file(seed_corpus)
    assert manifest[filed.name]["user_mark"] == "irrelevant"
    (new_file,) = seed_corpus.glob("006_*.txt")
    assert new_file.read_text(encoding="utf-8").splitlines()[0] == OFF_BEAT
    assert manifest[new_file.name]["user_mark"] == "relevant"
    assert scalar(database_url, "SELECT value FROM settings WHERE name = 'model_version'") == "2"
    assert query(database_url, "SELECT mark, labels FROM marks ORDER BY id")[0][0] == "relevant"

    unknown = run_watcher("items", "mark", "https://nowhere.example/x", "relevant", config=config)
    assert unknown.returncode == 2
    assert "no item is known by" in unknown.stderr
    bad = run_watcher("items", "mark", filed.name, "maybe", config=config)
    assert bad.returncode == 2


def test_an_article_like_one_marked_irrelevant_is_not_filed(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """Teaching: after an irrelevant mark, a similar later article follows it."""
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    half = len(paragraphs) // 2
    first = site.add_page(Page("/first", article_html(article["title"], paragraphs).encode()))
    # A shorter piece drawn from the same analysis: too different to be a copy (half of
    # the first is not in it), alike in subject.
    later_paragraphs = [p.replace("North Korea", "Pyongyang") for p in paragraphs[:half]][::-1]
    later = site.add_page(Page("/later", article_html("A later take", later_paragraphs).encode()))
    feed = {"items": [FeedItem(first, "First", guid="first", published=recent())]}
    url = site.add_feed("/feed.xml", lambda: rss(feed["items"]))
    config = feed_config(tmp_path, database_url=database_url, corpus=seed_corpus, feed=url)
    assert run_watcher("fetch", config=config).returncode == 0
    assert run_watcher("items", "mark", first, "irrelevant", config=config).returncode == 0
    feed["items"] = [*feed["items"], FeedItem(later, "Later", guid="later", published=recent())]

    result = run_watcher("fetch", config=config)

    assert result.returncode == 0, result.stderr
    row = query(database_url, "SELECT relevant, evidence FROM items WHERE url LIKE '%/later'")
    assert row, "the later article was fetched and stored, not taken for a copy"
    assert row[0][0] in (False, 0)
    assert "you marked irrelevant" in str(row[0][1])
    assert not list(seed_corpus.glob("006_*.txt"))

    # Control: without the mark, the same later article is filed.
    control_corpus = tmp_path / "control"
    shutil.copytree(seed_corpus.parent / "corpus", control_corpus, ignore=_watcher_files)
    control = write_config(
        tmp_path / "control.toml",
        database_url=f"sqlite:///{tmp_path / 'control.db'}",
        corpus=control_corpus,
        sources=[{"name": "S", "url": url}],
    )
    assert run_watcher("fetch", config=control).returncode == 0
    control_manifest = (control_corpus / "manifest.jsonl").read_text(encoding="utf-8")
    assert site.url("/later") in control_manifest


def test_reclassify_after_a_threshold_change_files_what_is_now_relevant(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """A stricter threshold files nothing; reclassify at the default files the article,
    reports the change, and leaves an article the user marked irrelevant unfiled."""
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    link = site.add_page(Page("/a", article_html(article["title"], paragraphs).encode()))
    other = relevance_articles([OTHER])[OTHER]
    other_paragraphs = [line for line in other["text"].splitlines() if line.strip()]
    link_b = site.add_page(Page("/b", article_html(other["title"], other_paragraphs).encode()))
    items = [
        FeedItem(link, "A", guid="a", published=recent()),
        FeedItem(link_b, "B", guid="b", published=recent()),
    ]
    url = site.add_feed("/feed.xml", rss(items))
    source = [{"name": "S", "url": url}]
    strict = tmp_path / "strict.toml"
    write_config(strict, database_url=database_url, corpus=seed_corpus, sources=source)
    strict.write_text(strict.read_text() + "\n[classify]\nthreshold = 1.0\n")
    assert run_watcher("fetch", config=strict).returncode == 0
    assert not list(seed_corpus.glob("005_*.txt"))

    default = write_config(
        tmp_path / "default.toml", database_url=database_url, corpus=seed_corpus, sources=source
    )
    # Marked under the strict threshold: the articles the mark scores again stay as they were.
    marked = run_watcher("items", "mark", link_b, "irrelevant", config=strict)
    assert marked.returncode == 0, marked.stderr
    assert "is now" not in marked.stdout
    result = run_watcher("items", "reclassify", config=default)

    assert result.returncode == 0, result.stderr
    # B's own mark teaches the classifier too, so only A's verdict changes.
    assert "1 verdicts changed (1 now relevant, 0 no longer); 1 filed" in result.stdout
    (filed,) = seed_corpus.glob("005_*.txt")
    assert filed.read_text(encoding="utf-8").splitlines()[0] == article["title"]
    assert not list(seed_corpus.glob("006_*.txt")), "the user's irrelevant mark wins"
    again = run_watcher("items", "reclassify", config=default)
    assert "0 verdicts changed" in again.stdout
    assert "0 filed" in again.stdout


def test_a_mark_scores_the_newest_articles_again_and_says_which_moved(
    threaded_server: HTTPServer, seed_corpus: Path, database_url: str, tmp_path: Path
) -> None:
    """The threshold lowered after a pass: the next mark scores the newest unmarked
    articles again, files the one now relevant, and names it."""
    site = Site(threaded_server)
    article = relevance_articles([RELEVANT])[RELEVANT]
    paragraphs = [line for line in article["text"].splitlines() if line.strip()]
    link = site.add_page(Page("/a", article_html(article["title"], paragraphs).encode()))
    parks = ["The council voted for more benches and longer library hours this spring."] * 30
    off_beat = site.add_page(Page("/off", article_html(OFF_BEAT, parks).encode()))
    items = [
        FeedItem(link, "A", guid="a", published=recent()),
        FeedItem(off_beat, "Off", guid="off", published=recent()),
    ]
    source = [{"name": "S", "url": site.add_feed("/feed.xml", rss(items))}]
    strict = tmp_path / "strict.toml"
    write_config(strict, database_url=database_url, corpus=seed_corpus, sources=source)
    strict.write_text(strict.read_text() + "\n[classify]\nthreshold = 1.0\n")
    assert run_watcher("fetch", config=strict).returncode == 0
    default = write_config(
        tmp_path / "default.toml", database_url=database_url, corpus=seed_corpus, sources=source
    )

    marked = run_watcher("items", "mark", off_beat, "irrelevant", config=default)

    assert marked.returncode == 0, marked.stderr
    item_a = scalar(database_url, "SELECT id FROM items WHERE url LIKE '%/a'")
    assert f"item {item_a} is now relevant" in marked.stdout
    (filed,) = seed_corpus.glob("005_*.txt")
    assert filed.read_text(encoding="utf-8").splitlines()[0] == article["title"]
    assert scalar(database_url, f"SELECT relevant FROM items WHERE id = {item_a}") in (True, 1)
