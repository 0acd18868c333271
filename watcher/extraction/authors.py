"""A page's byline, as ``trafilatura.metadata.extract_author`` finds it, in one walk.

trafilatura copies the whole tree, prunes comments, dates and figures from the copy
with an XPath, then runs three more XPaths with regular-expression tests over every
element of it. On the extraction benchmark that was an eighth of an analysis worker's
CPU, more than any other stage outside trafilatura's own extraction. The same tests,
made in Python over one walk of the parsed tree, give the same answer in a fraction
of the time; the copy is made only in the rare case where a byline candidate holds
something the pruning would remove (its text would change), and then trafilatura's
own function decides.

``tests/extraction/test_authors.py`` holds it to ``extract_author`` on every page of
``../shared/pages`` and pins the expressions it mirrors, so a trafilatura release that
changes them fails there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml.etree import _Element
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import extract_author
from trafilatura.utils import trim

__all__ = ["find_author"]

_LEN_LIMIT = 120  # extract_author's limit on a byline's length

# trafilatura.xpaths.AUTHOR_XPATHS, one test per expression, in its order.
_FIRST_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_FIRST_CLASS = re.compile(r"author-?name|AuthorName|authorName")
_SECOND_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_SECOND_CLASSES = frozenset({"byline", "username", "byl", "BBL"})
_SECOND_ID = re.compile(r"author|zuozhe|bianji|xiaobian")
_SECOND_CLASS = re.compile(
    r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_THIRD_ID = re.compile(r"[Aa]uthor")
_THIRD_CLASS = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")

# trafilatura.xpaths.AUTHOR_DISCARD_XPATHS: what is pruned before the search.
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    r"|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
_DISCARD_ALWAYS = frozenset({"time", "figure"})

# Every class or id any test above could accept matches these (a superset).
_SPECIAL_TAGS = frozenset({"author", "rel"}) | _DISCARD_ALWAYS
_ANY_CLASS = re.compile(
    "|".join(
        (
            _FIRST_CLASS.pattern,
            _SECOND_CLASS.pattern,
            _THIRD_CLASS.pattern,
            _DISCARD_CLASS.pattern,
            *_SECOND_CLASSES,
            "comments|title|date",
        )
    )
)
_ANY_ID = re.compile("|".join((_SECOND_ID.pattern, _THIRD_ID.pattern, _DISCARD_ID.pattern)))


@dataclass(slots=True)
class _Walk:
    """What one walk of the tree found: byline candidates per expression, in document
    order, and the elements the pruning would remove."""

    candidates: tuple[list[_Element], ...] = field(default_factory=lambda: ([], [], []))
    discarded: set[_Element] = field(default_factory=set)
    unsure: bool = False  # a test that reads child elements: leave it to trafilatura


def find_author(tree: HtmlElement) -> str | None:
    """The byline ``extract_author(tree)`` gives, read from ``tree`` without changing it."""
    walk = _walk(tree)
    if walk.unsure:
        return extract_author(tree)
    for candidates in walk.candidates:
        for element in candidates:
            if _removed(element, walk.discarded):
                continue
            if any(inner in walk.discarded for inner in element.iterdescendants()):
                return extract_author(tree)  # the pruning would change its text
            content = trim(" ".join(element.itertext()))
            if content and 2 < len(content) < _LEN_LIMIT:
                return normalize_authors(None, content)
    return None


def _walk(tree: HtmlElement) -> _Walk:
    walk = _Walk()
    first, second, third = walk.candidates
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # a comment or a processing instruction
        get = element.get
        ident, cls = get("id"), get("class")
        if not (
            tag in _SPECIAL_TAGS
            or (cls is not None and _class_may_match(cls))
            or (ident is not None and _ANY_ID.search(ident) is not None)
            or get("itemprop") is not None
            or get("data-component") is not None
            or (tag in _FIRST_TAGS and (get("rel") or get("data-testid")) is not None)
        ):
            continue  # most elements: no test below could pass
        if tag == "rel":  # AUTHOR_XPATHS read a child <rel>'s text: rare, not mirrored
            walk.unsure = True
            return walk
        found = _Attributes(tag, ident, cls, element)
        if _first(found):
            first.append(element)
        if _second(found):
            second.append(element)
        if _third(found):
            third.append(element)
        if element is not tree and _discard(found):
            walk.discarded.add(element)
    return walk


@lru_cache(maxsize=4096)
def _class_may_match(cls: str) -> bool:
    """Whether any test below could accept this class (pages repeat their classes)."""
    return _ANY_CLASS.search(cls) is not None


def _removed(element: _Element, discarded: set[_Element]) -> bool:
    return element in discarded or any(a in discarded for a in element.iterancestors())


@dataclass(frozen=True, slots=True)
class _Attributes:
    """The tag and the attributes most tests read; the rest are read when needed."""

    tag: str
    ident: str | None
    cls: str | None
    element: _Element

    def get(self, name: str) -> str | None:
        value = self.element.get(name)
        return value if isinstance(value, str) else None


def _first(found: _Attributes) -> bool:
    if found.tag == "author":
        return True
    cls = found.cls
    return found.tag in _FIRST_TAGS and (
        found.get("rel") == "author"
        or found.ident == "author"
        or cls == "author"
        or found.get("itemprop") == "author name"
        or found.get("data-testid") in ("AuthorCard", "AuthorURL")
        or (cls is not None and _FIRST_CLASS.search(cls) is not None)
    )


def _second(found: _Attributes) -> bool:
    if found.tag not in _SECOND_TAGS:
        return False
    cls, ident, itemprop = found.cls, found.ident, found.get("itemprop")
    return (
        cls in _SECOND_CLASSES
        or (itemprop is not None and "author" in itemprop)
        or (ident is not None and _SECOND_ID.search(ident) is not None)
        or (cls is not None and _SECOND_CLASS.search(cls) is not None)
    )


def _third(found: _Attributes) -> bool:
    cls, ident = found.cls, found.ident
    component, itemprop = found.get("data-component"), found.get("itemprop")
    return (
        (component is not None and "Byline" in component)
        or (itemprop is not None and "author" in itemprop)
        or (ident is not None and _THIRD_ID.search(ident) is not None)
        or (cls is not None and _THIRD_CLASS.search(cls) is not None)
    )


def _discard(found: _Attributes) -> bool:
    if found.tag in _DISCARD_ALWAYS:
        return True
    if found.tag not in _DISCARD_TAGS:
        return False
    cls, ident, component = found.cls, found.ident, found.get("data-component")
    return (
        ident == "comments"
        or cls in ("comments", "title", "date")
        or (ident is not None and _DISCARD_ID.search(ident) is not None)
        or (cls is not None and _DISCARD_CLASS.search(cls) is not None)
        or (component is not None and "Figure" in component)
    )
