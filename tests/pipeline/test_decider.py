"""The dedup decision, without a database: what the store knows goes in, an intent
comes out. The store's side (look) is read through a fake at its seam."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from watcher.analyse import Analysed
from watcher.dedup.identity import ArticleIdentity
from watcher.dedup.neardup import Fingerprint, NearDupRule, Passage
from watcher.dedup.urls import canonical_url
from watcher.extraction.page import Article
from watcher.pipeline.decider import Archived, Duplicate, Known, NewArticle, decide, look
from watcher.pipeline.job import Job
from watcher.relevance.classify import Verdict
from watcher.store import Match

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TEXT = "Seoul and Moscow signed a memorandum on Far East ports.\nThe talks ran for two days."
PAGE = "https://example.org/analysis/ports"
CANONICAL = "https://example.org/2026/ports"


def _analysed(
    *, relevant: bool = True, published: datetime | None = None, declared: str | None = None
) -> Analysed:
    rule = NearDupRule()
    article = Article(PAGE, declared, "Ports", TEXT, ("A. Author",), published, "en", None, False)
    verdict = Verdict(relevant, 0.9 if relevant else 0.1, ("russia-sk",) if relevant else (), ())
    return Analysed(article, rule.fingerprint(TEXT), verdict, rule.passage(TEXT, "Ports"))


def _identity(analysed: Analysed) -> ArticleIdentity:
    article = analysed.article
    return ArticleIdentity.of(canonical_url(PAGE), article.url, article.declared_canonical)


def _decide(job: Job, analysed: Analysed, known: Known, file_all: bool = False) -> object:
    return decide(
        job,
        _identity(analysed),
        analysed,
        known,
        source="Example",
        language=None,
        file_all=file_all,
        now=NOW,
    )


def test_a_text_the_store_does_not_know_is_a_new_article_filed_when_relevant() -> None:
    job = Job(entry_id=1, link=PAGE, published=NOW - timedelta(days=1))
    relevant = _decide(job, _analysed(), Known())
    assert isinstance(relevant, NewArticle)
    assert relevant.filed
    assert relevant.supersedes is None
    assert relevant.item.url == canonical_url(PAGE)
    assert relevant.item.published == job.published, "the feed's date wins over the page's"
    assert relevant.item.source_name == "Example"
    assert relevant.item.fetched == NOW

    other = _decide(job, _analysed(relevant=False), Known())
    assert isinstance(other, NewArticle)
    assert not other.filed
    archive = _decide(job, _analysed(relevant=False), Known(), file_all=True)
    assert isinstance(archive, NewArticle)
    assert archive.filed


def test_a_match_is_a_duplicate_unless_the_stored_text_is_an_excerpt_of_this_one() -> None:
    job = Job(entry_id=1, link=PAGE)
    copy = _decide(job, _analysed(), Known(match=Match(7)))
    assert copy == Duplicate(7, (canonical_url(PAGE),), PAGE)

    fuller = _decide(job, _analysed(), Known(match=Match(7, fuller=True)))
    assert isinstance(fuller, NewArticle)
    assert fuller.supersedes == 7


def test_a_declared_canonical_is_kept_only_when_believed() -> None:
    job = Job(entry_id=1, link=PAGE)
    analysed = _analysed(declared=CANONICAL)
    believed = _decide(job, analysed, Known())
    assert isinstance(believed, NewArticle)
    assert believed.item.url == canonical_url(CANONICAL), "filed under its canonical"

    doubted = _decide(job, analysed, Known(canonical_believed=False))
    assert isinstance(doubted, NewArticle)
    assert canonical_url(CANONICAL) not in doubted.item.aliases

    named = _decide(job, analysed, Known(canonical_item=3))
    assert isinstance(named, Duplicate)
    assert named.original == 3
    assert canonical_url(CANONICAL) in named.aliases


def test_an_undated_entry_whose_page_is_older_than_the_window_is_archive() -> None:
    cutoff = NOW - timedelta(days=30)
    job = Job(entry_id=1, link=PAGE, not_before=cutoff)
    assert isinstance(
        _decide(job, _analysed(published=cutoff - timedelta(days=1)), Known()), Archived
    )
    assert isinstance(
        _decide(job, _analysed(published=cutoff + timedelta(days=1)), Known()), NewArticle
    )
    assert isinstance(_decide(job, _analysed(published=None), Known()), NewArticle)


@dataclass
class _Store:
    """The store's three reads, answering from a dict and remembering what was asked."""

    by_url: dict[str, int] = field(default_factory=dict)
    copies: set[int] = field(default_factory=set)
    match: Match | None = None
    asked: list[str] = field(default_factory=list)

    def items_by_url(self, url_hashes: Sequence[str]) -> dict[str, int]:
        self.asked.append("items_by_url")
        return {h: self.by_url[h] for h in url_hashes if h in self.by_url}

    def is_copy_of(self, item_id: int, fingerprint: Fingerprint) -> bool:
        self.asked.append("is_copy_of")
        return item_id in self.copies

    def find_match(
        self, url_hashes: Sequence[str], fingerprint: Fingerprint, passage: Passage | None = None
    ) -> Match | None:
        self.asked.append(f"find_match:{len(url_hashes)}")
        return self.match


def test_look_stops_at_a_believed_canonical_and_skips_the_link_looked_up_already() -> None:
    analysed = _analysed(declared=CANONICAL)
    identity = _identity(analysed)
    declared = identity.hashes[canonical_url(CANONICAL)]

    store = _Store(by_url={declared: 3}, copies={3})
    assert look(store, Job(entry_id=1, link=PAGE), identity, analysed) == Known(canonical_item=3)
    assert store.asked == ["items_by_url", "is_copy_of"]

    other = _Store(by_url={declared: 3}, match=Match(9))
    known = look(other, Job(entry_id=1, link=PAGE, link_checked=True), identity, analysed)
    assert known == Known(canonical_believed=False, match=Match(9))
    assert other.asked[-1] == "find_match:0", "the link and final URL are one, looked up already"

    archive = _Store()
    old = _analysed(published=NOW - timedelta(days=400))
    job = Job(entry_id=1, link=PAGE, not_before=NOW - timedelta(days=30))
    assert look(archive, job, _identity(old), old) == Known()
    assert archive.asked == [], "an archived page needs no lookup"
