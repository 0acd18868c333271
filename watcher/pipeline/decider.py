"""What becomes of an analysed article, decided apart from doing it.

    look(store, ...)   -> Known    what the store holds of it (reads only)
    decide(...)        -> Intent   Archived | Duplicate | NewArticle (pure: no I/O)

The entry processor carries the intent out in the store, all three steps under the
settle lock, so the check and the insert cannot interleave with another writer's. Kept
pure so that every rule of "is this the same article?" is tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from watcher.analyse import Analysed
from watcher.dedup.identity import ArticleIdentity
from watcher.dedup.neardup import Fingerprint, Passage
from watcher.dedup.urls import file_key
from watcher.pipeline.job import Job
from watcher.store import Match, NewItem

__all__ = [
    "Archived",
    "Duplicate",
    "Intent",
    "Known",
    "NewArticle",
    "StoreReads",
    "archived",
    "decide",
    "look",
]


class StoreReads(Protocol):
    """The store's reads a decision needs (``watcher.store.Store`` has them)."""

    def items_by_url(self, url_hashes: Sequence[str]) -> dict[str, int]: ...

    def is_copy_of(self, item_id: int, fingerprint: Fingerprint) -> bool: ...

    def find_match(
        self, url_hashes: Sequence[str], fingerprint: Fingerprint, passage: Passage | None = None
    ) -> Match | None: ...


@dataclass(frozen=True, slots=True)
class Known:
    """What the store knows of an analysed article."""

    canonical_item: int | None = None  # the item its declared canonical names, of this text
    canonical_believed: bool = True  # false: another text holds the declared canonical
    match: Match | None = None  # the stored article found by URL, text or near-duplicate


@dataclass(frozen=True, slots=True)
class Archived:
    """The feed gave no date and the page's says it is older than the source's window."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    original: int
    aliases: tuple[str, ...]  # the copy's URLs, to find it by next time
    final_url: str


@dataclass(frozen=True, slots=True)
class NewArticle:
    item: NewItem
    filed: bool  # it gets a corpus file
    supersedes: int | None = None  # an excerpt of it stored first, now its copy


Intent = Archived | Duplicate | NewArticle


def look(store: StoreReads, job: Job, identity: ArticleIdentity, analysed: Analysed) -> Known:
    """The store's reads the decision needs, and no more: a believed canonical that
    names this text's item ends the search, and an archived page needs none."""
    if archived(job, analysed):
        return Known()
    fingerprint = analysed.fingerprint
    believed = True
    if identity.declares_another:
        assert identity.declared is not None
        digest = identity.hashes[identity.declared]
        candidate = store.items_by_url([digest]).get(digest)
        if candidate is not None and store.is_copy_of(candidate, fingerprint):
            return Known(canonical_item=candidate)
        believed = candidate is None  # held by another text: not this page's canonical
    # The link was looked up when the entry was admitted: only a redirect's final URL
    # can be news here.
    link = identity.link
    urls = [u for u in (identity.final, link) if not (job.link_checked and u == link)]
    hashes = list(dict.fromkeys(identity.hashes[u] for u in urls))
    match = store.find_match(hashes, fingerprint, analysed.passage)
    return Known(canonical_believed=believed, match=match)


def archived(job: Job, analysed: Analysed) -> bool:
    """An undated entry of a first poll whose page is older than the source's window."""
    published = analysed.article.published
    return bool(job.not_before and published and published < job.not_before)


def decide(
    job: Job,
    identity: ArticleIdentity,
    analysed: Analysed,
    known: Known,
    *,
    source: str,
    language: str | None,
    file_all: bool,
    now: datetime,
) -> Intent:
    """What to do with the article: archive it, record it as a copy, or store it."""
    if archived(job, analysed):
        return Archived()
    article, verdict = analysed.article, analysed.verdict
    if not known.canonical_believed:
        identity = identity.without_declared()
    match = known.match
    original = known.canonical_item
    if original is None and match is not None and not match.fuller:
        original = match.item_id
    if original is not None:
        return Duplicate(original, identity.aliases, article.url)
    aliases = identity.aliases
    item = NewItem(
        key=file_key(aliases[0]),
        url=aliases[0],
        aliases=aliases,
        title=article.title,
        text=article.text,
        text_hash=analysed.fingerprint.text_hash,
        paragraph_hashes=analysed.fingerprint.paragraphs,
        bands=analysed.fingerprint.bands,
        authors=article.authors or job.authors,
        published=job.published or article.published,
        fetched=now,
        language=article.language or language,
        source_name=source,
        relevant=verdict.relevant,
        score=verdict.score,
        labels=verdict.labels,
        evidence=verdict.evidence,
        tie_scores=verdict.ties,
        final_url=article.url,
    )
    supersedes = match.item_id if match is not None and match.fuller else None
    return NewArticle(item, filed=verdict.relevant or file_all, supersedes=supersedes)
