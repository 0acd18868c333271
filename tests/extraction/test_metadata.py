"""read_metadata is trafilatura's extract_metadata without categories, tags and licence."""

from __future__ import annotations

import json
from datetime import date

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from tests.conftest import read_page, shared_path
from watcher.extraction.metadata import USED_FIELDS, read_metadata
from watcher.extraction.page import Article, extract_page

_DATES = {"extensive_search": False, "original_date": True}

_PAGE = """<!DOCTYPE html><html lang="en"><head>
<title>Seoul and Moscow talk again | Example Review</title>
<meta property="og:site_name" content="@exampleReview">
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2026-11-30T08:00:00Z">
<link rel="canonical" href="/2026/11/seoul-moscow">
<meta property="og:url" content="https://review.example.org/2026/11/seoul-moscow">
<meta name="keywords" content="Korea, Russia">
</head><body><article><h1>Seoul and Moscow talk again</h1>
<p>South Korea's vice foreign minister met his Russian counterpart in Moscow on Friday,
the first such meeting since 2022, to discuss North Korean troops in Russia.</p>
<footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY</a></footer>
</article></body></html>"""


def test_a_written_page_gives_the_fields_watcher_reads() -> None:
    tree = load_html(_PAGE)
    metadata = read_metadata(tree, "https://review.example.org/x?utm_source=feed", _DATES)
    assert metadata.title == "Seoul and Moscow talk again"
    assert metadata.author == "Jane Roe"
    assert metadata.date == "2026-11-30"
    assert metadata.sitename == "Examplereview"  # trafilatura title-cases a handle
    assert metadata.url is not None
    assert metadata.url.endswith("/2026/11/seoul-moscow")
    # What watcher never reads is not searched for (meta keywords come free with the tags).
    assert not metadata.categories
    assert metadata.license is None


def test_it_agrees_with_trafilatura_on_the_written_page() -> None:
    ours = read_metadata(load_html(_PAGE), "https://review.example.org/x", _DATES)
    theirs = extract_metadata(load_html(_PAGE), "https://review.example.org/x", dict(_DATES))
    assert theirs.license is not None  # trafilatura does read the licence we skip
    for field in USED_FIELDS:
        assert getattr(ours, field) == getattr(theirs, field), field


def test_an_extracted_article_carries_the_metadata() -> None:
    article = extract_page(_PAGE.encode(), "text/html", "https://review.example.org/x", None, None)
    assert isinstance(article, Article)
    assert article.authors == ("Jane Roe",)
    assert article.published is not None
    assert article.published.date() == date(2026, 11, 30)
    assert article.declared_canonical is not None
    assert article.declared_canonical.endswith("/2026/11/seoul-moscow")


def test_it_agrees_with_trafilatura_on_every_benchmark_page() -> None:
    """Field by field on 181 real pages: a trafilatura release that changes its metadata
    sequence fails here instead of changing watcher's titles and dates unseen."""
    folder = shared_path("pages", "extraction-benchmark")
    keys = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    differ = []
    for key in keys:
        html = read_page(folder / "html" / f"{key}.html.gz").decode("utf-8")
        url = f"https://bench.example.org/{key}"
        ours = read_metadata(load_html(html), url, _DATES)
        theirs = extract_metadata(load_html(html), url, dict(_DATES))
        differ += [
            (key, field) for field in USED_FIELDS if getattr(ours, field) != getattr(theirs, field)
        ]
    assert len(keys) == 181
    assert differ == []


@pytest.mark.parametrize("field", USED_FIELDS)
def test_every_field_watcher_reads_exists_on_a_document(field: str) -> None:
    assert hasattr(extract_metadata(load_html(_PAGE)), field)
