"""URL canonicalisation and content fingerprints."""

from __future__ import annotations

import pytest

from watcher.dedup.urls import (
    canonical_url,
    file_key,
    normalize_text,
    paragraph_hashes,
    text_hash,
    trusted_canonical,
)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/b/?utm_source=x&id=3&fbclid=1#top",
            "https://example.com/a/b?id=3",
        ),
        ("http://example.com:80/x/", "http://example.com/x"),
        ("https://example.com/amp/story", "https://example.com/story"),
        ("https://example.com/story/amp/", "https://example.com/story"),
        ("https://example.com/story?output=amp", "https://example.com/story"),
        ("https://example.com/story.amp.html", "https://example.com/story.html"),
        ("https://example.com/story?print=1&gclid=9&mc_cid=2", "https://example.com/story"),
        (
            "https://example.com/view.php?idxno=123&utm_medium=rss",
            "https://example.com/view.php?idxno=123",
        ),
        ("https://example.com/news?b=2&a=1", "https://example.com/news?a=1&b=2"),
        ("https://example.com/", "https://example.com/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_different_articles_keep_different_urls() -> None:
    """Query parameters that identify an article survive (courlan's strict mode drops them)."""
    assert canonical_url("https://k.example/view.php?idxno=1") != canonical_url(
        "https://k.example/view.php?idxno=2"
    )


def test_file_key_is_sha256_prefix() -> None:
    import hashlib

    assert (
        file_key("https://example.com/a")
        == hashlib.sha256(b"https://example.com/a").hexdigest()[:16]
    )
    assert len(file_key("https://example.com/a")) == 16
    assert file_key("https://example.com/a") != file_key("https://example.com/b")


@pytest.mark.parametrize(
    ("declared", "page", "trusted"),
    [
        (
            "https://example.com/2024/05/story",
            "https://example.com/2024/05/story?utm_source=x",
            True,
        ),
        ("https://www.example.com/story-slug", "https://example.com/news/123/story-slug", True),
        ("https://example.com/", "https://example.com/2024/05/story", False),
        ("https://example.com/news", "https://example.com/news/story", False),
        ("https://example.com/world", "https://example.com/2024/123", False),
        ("https://other.example/story", "https://example.com/story", False),
        ("/relative", "https://example.com/story", False),
        (None, "https://example.com/story", False),
    ],
)
def test_trusted_canonical(declared: str | None, page: str, trusted: bool) -> None:
    assert (trusted_canonical(declared, page) is not None) is trusted


def test_text_hash_ignores_quotes_dashes_case_and_spacing() -> None:
    a = "Seoul’s “new” policy — toward the North.\n\nIt   changed."
    b = 'seoul\'s "new" policy - toward the north. it changed.'
    assert normalize_text(a) == normalize_text(b)
    assert text_hash(a) == text_hash(b)
    assert text_hash(a) != text_hash(a + " More.")


def test_paragraph_hashes_skip_short_lines_and_repeat() -> None:
    text = "Share\nA\nThis paragraph is long enough to be a distinctive part of the article.\n" * 2
    assert len(paragraph_hashes(text)) == 1
    korean = "북한과 러시아의 군사 협력이 강화되면서 한반도 정세가 복잡해지고 있다는 분석이 나온다"
    assert len(paragraph_hashes(korean)) == 1
