"""What a digest holds: a recipient's new articles, grouped under their strongest tie.

    candidates   the store's articles since the recipient's last digest, not yet sent
    articles     relevant (or marked so) and at least ``[digest] min_score``
    near misses  the best of the rest, scored at least half the threshold, unmarked
    sections     one per tie, in the lexicon's order; an article with two labels once,
                 under its strongest; ranked by score and freshness

Everything here but ``build_digest`` is pure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from watcher.config import Config
from watcher.relevance.classify import split_sentences
from watcher.sources.planning import health
from watcher.store import Candidate, Copy, SourceState, Store, Waiting

__all__ = [
    "OTHER",
    "CorpusSize",
    "Digest",
    "DigestArticle",
    "NearMiss",
    "Section",
    "SourceNote",
    "build_digest",
    "corpus_size",
    "excerpt",
    "group",
    "rank",
    "source_notes",
    "strongest_tie",
    "tie_title",
]

OTHER = "other"  # relevant by the user's mark, with no tie named
_TIE_TITLES = {
    "inter-korean": "Inter-Korean",
    "russia-nk": "Russia\N{EN DASH}North Korea",
    "russia-sk": "Russia\N{EN DASH}South Korea",
    OTHER: "Other",
}
_FRESH_DAYS = 7.0  # freshness falls from 1 to 0 over a week after publication
_FAILING_FOR = timedelta(days=1)  # a source failing this long is shown in the footer
_LEDE_CHARS = 360
_CORPUS_FILE = re.compile(r"^\d{3,}_[0-9a-f]{16}\.txt$")


@dataclass(frozen=True, slots=True)
class DigestArticle:
    id: int
    title: str
    url: str | None
    source: str
    authors: tuple[str, ...]
    day: date | None  # published, else stored, in the digest's time zone
    excerpt: str
    why: str | None  # the classifier's strongest evidence, when the excerpt lacks it
    labels: tuple[str, ...]  # tie names, strongest first
    score: float
    also_at: tuple[Copy, ...]


@dataclass(frozen=True, slots=True)
class Section:
    tie: str
    title: str
    articles: tuple[DigestArticle, ...]  # shown in full
    more: tuple[DigestArticle, ...]  # past [digest] max_per_tie: one line each


@dataclass(frozen=True, slots=True)
class NearMiss:
    article: DigestArticle
    tie: str | None  # the tie it came closest to
    command: str  # the command line that would file it


@dataclass(frozen=True, slots=True)
class SourceNote:
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class CorpusSize:
    folder: str
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Digest:
    recipient: str | None
    made: datetime
    since: datetime
    timezone: str
    sections: tuple[Section, ...]
    near_misses: tuple[NearMiss, ...]
    sources: tuple[SourceNote, ...]
    corpus: CorpusSize
    review: str = ""  # the review page's address (web.base_url): each article links there

    @property
    def count(self) -> int:
        return sum(len(s.articles) + len(s.more) for s in self.sections)

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(a.id for s in self.sections for a in (*s.articles, *s.more))

    @property
    def near_miss_ids(self) -> tuple[int, ...]:
        return tuple(n.article.id for n in self.near_misses)

    @property
    def summary(self) -> str:
        """ "3 Inter-Korean, 1 Russia-North Korea", or "nothing new"."""
        parts = [f"{len(s.articles) + len(s.more)} {s.title}" for s in self.sections]
        return ", ".join(parts) or "nothing new"


def build_digest(
    store: Store,
    config: Config,
    *,
    recipient: str | None,
    now: datetime,
    since: datetime | None = None,
) -> Digest:
    """The recipient's digest as of ``now``. ``since`` widens a preview: everything
    stored since then, sent before or not (``recipient`` None: nobody's record)."""
    settings = config.digest
    threshold = config.classify.threshold
    if since is None:
        first = timedelta(days=settings.first_days)
        since = store.digest_window(recipient, now, first) if recipient else now - first
        sent_to = recipient
    else:
        sent_to = None
    floor = threshold / 2
    candidates = store.digest_candidates(sent_to, since, min(floor, threshold))
    min_score = threshold if settings.min_score is None else settings.min_score
    chosen = [c for c in candidates if _wanted(c) and (c.user_mark or c.score >= min_score)]
    near = sorted(
        (c for c in candidates if not _wanted(c) and c.user_mark is None and c.score < threshold),
        key=lambda c: (-c.score, c.id),
    )[: settings.near_misses]
    copies = store.copies([c.id for c in chosen])
    zone = settings.zone()

    def article(c: Candidate) -> DigestArticle:
        return _article(c, copies.get(c.id, ()), zone)

    states = store.source_states([s.feed_url for s in config.sources])
    return Digest(
        recipient=recipient,
        made=now,
        since=since,
        timezone=settings.timezone,
        sections=group(chosen, config.lexicon().names, settings.max_per_tie, now, article),
        near_misses=tuple(_near_miss(article(c), c) for c in near),
        sources=source_notes(
            states, config.schedule.stale_after_polls, now, store.waiting_by_source()
        ),
        corpus=corpus_size(config.storage.corpus_dir),
        review=config.web.base_url,
    )


def _wanted(c: Candidate) -> bool:
    """Relevant as the user sees it: their mark first, the classifier's verdict else."""
    return c.user_mark == "relevant" or (c.relevant and c.user_mark != "irrelevant")


def group(
    candidates: Iterable[Candidate],
    ties: Sequence[str],
    max_per_tie: int,
    now: datetime,
    make: Callable[[Candidate], DigestArticle],
) -> tuple[Section, ...]:
    """Sections in the ties' order, each ranked; empty ones left out."""
    by_tie: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_tie.setdefault(strongest_tie(c) or OTHER, []).append(c)
    order = [*ties, *sorted(set(by_tie) - {*ties, OTHER}), OTHER]
    sections = []
    for tie in order:
        members = sorted(by_tie.get(tie, ()), key=lambda c: (-rank(c, now), c.id))
        if members:
            shown = tuple(make(c) for c in members[:max_per_tie])
            more = tuple(make(c) for c in members[max_per_tie:])
            sections.append(Section(tie, tie_title(tie), shown, more))
    return tuple(sections)


def strongest_tie(c: Candidate) -> str | None:
    """The label with the highest score (labels are stored strongest first since tie
    scores were; older articles keep their first label). An article the user marked
    relevant without naming a tie, which the classifier gave none: its strongest tie."""
    if not c.labels:
        if c.user_mark == "relevant" and any(c.tie_scores.values()):
            return max(c.tie_scores, key=lambda tie: c.tie_scores[tie])
        return None
    return max(c.labels, key=lambda tie: c.tie_scores.get(tie, 0.0))


def rank(c: Candidate, now: datetime) -> float:
    """Score first, freshness second: four fifths score, one fifth how recently it was
    published (a week-old article that was only now found ranks below today's)."""
    when = c.published or c.fetched or now
    age_days = max(0.0, (now - when).total_seconds() / 86400)
    freshness = max(0.0, 1.0 - age_days / _FRESH_DAYS)
    return 0.8 * c.score + 0.2 * freshness


def tie_title(tie: str) -> str:
    return _TIE_TITLES.get(tie, tie)


def excerpt(text: str, title: str | None = None, limit: int = _LEDE_CHARS) -> str:
    """The article's first two or three sentences, skipping short lines (section names,
    bylines, captions' credits) and a repeated title."""
    chosen: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if len(line) < 60 or line == title or line.startswith("\N{COPYRIGHT SIGN}"):
            continue
        for sentence in split_sentences(line):
            if chosen and len(" ".join([*chosen, sentence])) > limit:
                return _clip(" ".join(chosen), limit)
            chosen.append(sentence)
            if len(chosen) == 3:
                return _clip(" ".join(chosen), limit)
        if len(chosen) >= 2:
            break
    return _clip(" ".join(chosen), limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "\N{HORIZONTAL ELLIPSIS}"


def _article(c: Candidate, copies: Sequence[Copy], zone: ZoneInfo) -> DigestArticle:
    when = c.published or c.fetched
    lede = excerpt(c.lede, c.title)
    why = next((e for e in c.evidence if e[:80] not in lede), None)
    return DigestArticle(
        id=c.id,
        # a feed that escaped its titles twice shows "&#x27;": once is what was meant
        title=html.unescape(c.title or c.url or f"article {c.id}").strip(),
        url=c.url,
        source=c.source or "",
        authors=c.authors,
        day=when.astimezone(zone).date() if when else None,
        excerpt=lede,
        why=_clip(why, 240) if why else None,
        labels=tuple(sorted(c.labels, key=lambda tie: -c.tie_scores.get(tie, 0.0))),
        score=c.score,
        also_at=tuple(copies),
    )


def _near_miss(article: DigestArticle, c: Candidate) -> NearMiss:
    tie = max(c.tie_scores, key=lambda t: c.tie_scores[t]) if c.tie_scores else None
    label = f" --label {tie}" if tie else ""
    return NearMiss(article, tie, f"watcher items mark {c.id} relevant{label}")


def source_notes(
    states: Iterable[SourceState],
    stale_after: int,
    now: datetime,
    waiting: Mapping[int, Waiting] | None = None,
) -> tuple[SourceNote, ...]:
    """Sources that need the reader's attention: failing for more than a day, stale, or
    with articles that failed and wait for another try (the articles the digest
    cannot list yet)."""
    notes = []
    for state in states:
        failing = state.consecutive_failures and (
            state.failing_since is not None and now - state.failing_since >= _FAILING_FOR
        )
        stale = not state.consecutive_failures and state.polls_without_new >= stale_after
        stuck = (waiting or {}).get(state.id)
        if stuck is not None and not stuck.tried:
            stuck = None  # only recorded, not tried yet: nothing has gone wrong
        said = []
        if failing or stale:
            status = health(
                polled=True,
                failures=state.consecutive_failures,
                error_kind=state.last_error_kind,
                polls_without_new=state.polls_without_new,
                stale_after=stale_after,
            )
            if failing and state.failing_since is not None:
                status += f", since {state.failing_since:%Y-%m-%d}"
            said.append(status)
        if stuck is not None:
            kinds = f" ({', '.join(stuck.kinds)})" if stuck.kinds else ""
            noun = "article" if stuck.tried == 1 else "articles"
            said.append(f"{stuck.tried} {noun} waiting for another try{kinds}")
        if said:
            notes.append(SourceNote(state.name, "; ".join(said)))
    return tuple(notes)


def corpus_size(folder: Path) -> CorpusSize:
    files = size = 0
    try:
        for entry in folder.iterdir():
            if _CORPUS_FILE.match(entry.name) and entry.is_file():
                files += 1
                size += entry.stat().st_size
    except OSError:
        pass  # the footer says what it can; the pass reports the folder's faults
    return CorpusSize(str(folder), files, size)
