"""find_author gives what trafilatura's extract_author gives, without copying the tree."""

from __future__ import annotations

import random

import pytest
from lxml import html as lxml_html
from trafilatura.metadata import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, extract_author
from trafilatura.utils import load_html

from tests.conftest import read_page, shared_path
from watcher.extraction.authors import find_author

# The expressions watcher.extraction.authors mirrors, as trafilatura writes them. A
# release that changes them fails here: mirror the change, then update this copy.
_MIRRORED = (
    "//*[self::a or self::address or self::div or self::link or self::p or self::span or "
    "self::strong][ @rel='author' or @id='author' or @class='author' or @itemprop='author "
    "name' or rel='me' or @data-testid='AuthorCard' or @data-testid='AuthorURL' or "
    "re:test(@class, 'author-?name|AuthorName|authorName')]|//author",
    "//*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][ "
    "@class='byline' or @class='username' or @class='byl' or @class='BBL' or "
    "contains(@itemprop, 'author') or re:test(@id, 'author|zuozhe|bianji|xiaobian') or "
    "re:test(@class, 'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|"
    "journalist-name')]",
    "//*[ contains(@data-component, 'Byline') or contains(@itemprop, 'author') or "
    "re:test(@id, '[Aa]uthor') or re:test(@class, '[Aa]uthor|screenname|writer|[Bb]yline')]",
    ".//*[self::a or self::div or self::section or self::span][ @id='comments' or "
    "@class='comments' or @class='title' or @class='date' or re:test(@id, "
    "'^comments|comment-?list|ProductReviews') or re:test(@class, "
    "'^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    "article-(?:share|support)|print|category|meta-date|meta-reviewer') or "
    "contains(@data-component, 'Figure')]",
    "//time|//figure",
)


def _page(body: str) -> lxml_html.HtmlElement:
    tree = load_html(f"<html><head><title>T</title></head><body>{body}</body></html>")
    assert tree is not None
    return tree


def _both(body: str) -> tuple[str | None, str | None]:
    return find_author(_page(body)), extract_author(_page(body))


def test_trafilatura_still_uses_the_expressions_mirrored() -> None:
    paths = [" ".join(e.path.split()) for e in (*AUTHOR_XPATHS, *AUTHOR_DISCARD_XPATHS)]
    assert tuple(paths) == _MIRRORED


def test_a_byline_is_found() -> None:
    ours, theirs = _both('<p>Text.</p><span class="author-name">Jane Roe</span>')
    assert ours == theirs == "Jane Roe"


def test_a_byline_in_a_pruned_sidebar_is_passed_over() -> None:
    body = (
        '<div class="sidebar"><span class="author">Sidebar Person</span></div>'
        '<article><p class="byline">Jane Roe</p></article>'
    )
    ours, theirs = _both(body)
    assert ours == theirs == "Jane Roe"


def test_the_first_expression_wins_over_an_earlier_element_of_a_later_one() -> None:
    body = '<div class="writer">Wrong Person</div><a rel="author">Jane Roe</a>'
    ours, theirs = _both(body)
    assert ours == theirs == "Jane Roe"


def test_a_byline_holding_a_date_is_read_as_trafilatura_prunes_it() -> None:
    # The <time> goes, its tail joins the text before it: trafilatura's own path decides.
    body = '<p class="byline">Jane Roe<time>1 Dec 2026</time>, Seoul</p>'
    ours, theirs = _both(body)
    assert theirs is not None
    assert ours == theirs


def test_a_child_rel_element_is_left_to_trafilatura() -> None:
    ours, theirs = _both("<a>Jane Roe<rel>me</rel></a>")
    assert ours == theirs


def test_a_byline_too_long_is_skipped_for_the_next() -> None:
    body = f'<span class="author">{"word " * 40}</span><div class="byline">Jane Roe</div>'
    ours, theirs = _both(body)
    assert ours == theirs == "Jane Roe"


def test_a_page_without_a_byline_gives_none_and_is_left_as_it_was() -> None:
    tree = _page('<p class="lead">No one signs this.</p><figure>A photo</figure>')
    before = lxml_html.tostring(tree)
    assert find_author(tree) is None
    assert extract_author(tree) is None
    assert lxml_html.tostring(tree) == before


def test_the_tree_is_not_changed_when_a_byline_is_found() -> None:
    tree = _page('<div class="comments">x</div><span class="author">Jane Roe</span><time>t</time>')
    before = lxml_html.tostring(tree)
    assert find_author(tree) == "Jane Roe"
    assert lxml_html.tostring(tree) == before


# Values chosen to hit every test of both sides, and near misses of them.
_TAGS = ("a", "div", "span", "p", "section", "h3", "h4", "strong", "address", "li", "time")
_CLASSES = (
    "author", "Author-box", "authorName", "author-name", "byline", "Byline", "byl", "BBL",
    "username", "writer", "screenname", "comments", "Comments-area", "xcomments", "sidebar",
    "quote", "print-only", "category", "meta-date", "date", "title", "article-share",
    "article-body", "lead", "is-hidden", "posted-by", "channel-name", "menu",
)  # fmt: skip
_IDS = ("author", "main-Author", "comments", "xcomments", "comment-list", "zuozhe", "nav")
_OTHER = (
    'rel="author"', 'itemprop="author"', 'itemprop="author name"', 'data-testid="AuthorURL"',
    'data-component="Byline"', 'data-component="Figure"', 'itemprop="name"', "",
)  # fmt: skip
_NAMES = ("Jane Roe", "Kim Min-jun", "By Ivan Petrov", "x", "Staff", "", "https://x.org/a")


def _random_element(rng: random.Random, depth: int) -> str:
    tag = rng.choice(_TAGS)
    attributes = []
    if rng.random() < 0.5:
        attributes.append(f'class="{rng.choice(_CLASSES)}"')
    if rng.random() < 0.2:
        attributes.append(f'id="{rng.choice(_IDS)}"')
    if rng.random() < 0.3:
        attributes.append(rng.choice(_OTHER))
    children = ""
    if depth < 3:
        children = "".join(_random_element(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    tail = rng.choice(("", " and ", ", Seoul"))
    return f"<{tag} {' '.join(attributes)}>{rng.choice(_NAMES)}{children}</{tag}>{tail}"


@pytest.mark.parametrize("seed", range(400))
def test_it_agrees_with_trafilatura_on_random_pages(seed: int) -> None:
    rng = random.Random(seed)
    body = "".join(_random_element(rng, 0) for _ in range(rng.randint(1, 6)))
    ours, theirs = _both(body)
    assert ours == theirs, body


def test_it_agrees_with_trafilatura_on_every_shared_page() -> None:
    folder = shared_path("pages")
    paths = sorted(p for p in folder.rglob("*") if p.name.endswith((".html", ".html.gz")))
    assert len(paths) > 500
    differ, found = [], 0
    for path in paths:
        html = read_page(path).decode("utf-8", "replace")
        if load_html(html) is None:
            continue
        ours, theirs = find_author(load_html(html)), extract_author(load_html(html))
        found += theirs is not None
        if ours != theirs:
            differ.append((path.name, ours, theirs))
    assert found > 300  # the comparison is over pages that do have bylines
    assert differ == []


def test_a_plain_byline_is_found_without_trafilaturas_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The common case is read from the one walk: trafilatura's function (the copy and
    the XPaths) is only for a byline the pruning would change."""

    def copying(_tree: lxml_html.HtmlElement) -> str | None:
        raise AssertionError("extract_author was called")

    monkeypatch.setattr("watcher.extraction.authors.extract_author", copying)
    body = (
        '<div class="sidebar"><span class="author">Sidebar</span></div>'
        '<p class="byline">Jane Roe</p>'
    )
    assert find_author(_page(body)) == "Jane Roe"
