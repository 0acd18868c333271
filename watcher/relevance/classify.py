"""Relevance to the beat -> Verdict (relevant, score, labels, evidence). Pure.

Lexicons (``watcher.relevance.lexicon``: the three ties by default, in English, Korean, Russian
and German, extendable by configuration) find the evidence sentence by sentence: where
the two parties of a tie meet, or a term names the tie. Models trained on a few
numbers describing that evidence (``watcher.relevance.features``,
``watcher.relevance.model``) decide whether it is enough, and for which ties; where
they are unsure, the wording of the evidence is read too (``watcher.relevance.wording``);
the user's marks then move similar articles their way. The sentences that weighed most are
returned, so a reader can see why. ``Classifier`` is the interface callers use.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from watcher.relevance.features import (
    FEATURE_NAMES,
    TieEvidence,
    article_features,
    features,
    has_evidence,
)
from watcher.relevance.lexicon import Lexicon, Topic, default_lexicon, look_ahead
from watcher.relevance.model import Model, TieModel, load_model
from watcher.relevance.sentences import split_sentences
from watcher.relevance.similarity import Similarities, TermVector, vector
from watcher.relevance.wording import blend, embedding, evidence_text, unsure

__all__ = [
    "TIES",
    "Classifier",
    "Example",
    "KeywordClassifier",
    "Scan",
    "Verdict",
    "scan",
    "split_sentences",
    "tie_evidence",
]

TIES = default_lexicon().names  # the default ties; a configuration may add more

_MAX_EVIDENCE = 3
_OBSERVED = 0.4  # evidence weight left when the topic's observer is in view
_PULL = 0.5  # how far a near-copy of a marked article moves (scores are in [0, 1])
_SIMILAR_FROM = 0.3  # cosine above which marks start to count (random pairs: p99 0.33)
_SIMILAR_FULL = 0.7
_OPENING = 300
_LINE_END = re.compile(r"[.!?。:;\"”’)\]]\s*$")  # a line that ends a sentence
_WRAPPED_LINES = 6
_WRAPPED_SHARE = 0.6  # characters in which a dateline says whose voice the text is in
# A wire story's dateline names the city it was filed from, not a party to it:
# "SEOUL, Dec. 29 (Yonhap) --", "MOSCOW (Reuters) -", "SEOUL North Korea said",
# "[서울=뉴시스]".
# Matched in the text's own case: the capitals are what make it a dateline.
_DATELINE = re.compile(
    look_ahead(  # re would try each branch at every position
        r"\b[A-Z][A-Z'-]{3,}(?: [A-Z][A-Z'-]{2,})?"
        r"(?=,\s*[A-Z][a-z]{2,4}\.?(?:\s*\d|$)"
        r"|\s*\([A-Z][\w.]*(?: [A-Z][\w.]*){0,2}\)|\s+(?:--|—|–))"
        r"|\A[A-Z][A-Z'-]{3,}(?: [A-Z][A-Z'-]{2,})?(?= [A-Z][a-z])"
        r"|[\[(][가-힣]{2,5}\s*=\s*[^\])\n]{1,12}[\])]"  # [서울=뉴시스], (모스크바=연합뉴스)
    )
)


@dataclass(frozen=True, slots=True)
class Verdict:
    relevant: bool
    score: float
    labels: tuple[str, ...]  # the ties that pass the threshold, strongest first
    evidence: tuple[str, ...]
    # every tie's score, strongest first: the digest files an article under its
    # strongest tie and suggests one for a near miss, whose labels are empty
    ties: tuple[tuple[str, float], ...] = ()


class Classifier(Protocol):
    def classify(self, title: str | None, text: str, language: str | None) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class Example:
    """An article the user marked, which similar articles follow."""

    title: str
    vector: TermVector
    relevant: bool
    labels: tuple[str, ...]  # the ties the user gave; none: all ties


@dataclass(frozen=True, slots=True)
class _Named:
    """What one sentence names: parties, topics by their terms, topics by context."""

    parties: frozenset[str]
    topics: frozenset[str]
    context: frozenset[str]

    def __or__(self, other: _Named) -> _Named:
        return _Named(
            self.parties | other.parties,
            self.topics | other.topics,
            self.context | other.context,
        )


_NOTHING = _Named(frozenset(), frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class _Hit:
    tie: str
    weight: float
    sentence: str
    position: int


@dataclass(frozen=True, slots=True)
class Scan:
    """What the lexicons found in one article, sentence by sentence."""

    sentences: tuple[str, ...]
    paragraphs: tuple[int, ...]  # the paragraph of each sentence
    named: tuple[_Named, ...]
    hits: tuple[_Hit, ...]
    title_ties: frozenset[str]
    lexicon: Lexicon
    title_parties: frozenset[str] = frozenset()
    attributed: frozenset[int] = frozenset()  # sentences naming a party as a source


def _mean_model(models: dict[str, TieModel]) -> TieModel:
    """For a tie the user added, which no labelled data has trained: the mean of the
    trained ties' weights (they share their features' meaning)."""
    count = len(models)
    weights = tuple(
        sum(m.weights[i] for m in models.values()) / count for i in range(len(FEATURE_NAMES))
    )
    return TieModel(weights, sum(m.bias for m in models.values()) / count)


class KeywordClassifier:
    """Lexicons find the evidence; learned models decide how much is enough and for
    which ties; the user's marks move similar articles the same way.

    Deterministic; the model is loaded once, when the classifier is made."""

    def __init__(
        self,
        threshold: float = 0.5,
        model: Model | None = None,
        examples: Sequence[Example] = (),
        lexicon: Lexicon | None = None,
    ) -> None:
        self.threshold = threshold
        self.lexicon = lexicon or default_lexicon()
        trained = model if model is not None else load_model()
        fallback = _mean_model(trained.ties)
        self.ties = {name: trained.ties.get(name, fallback) for name in self.lexicon.names}
        self.relevance = trained.relevance
        self.wording = trained.wording
        self.trained = frozenset(trained.ties)  # the ties the wording was learnt on
        self.examples = tuple(examples)
        self._similar: Similarities | None = None  # the marks' index, made at first use

    def __getstate__(self) -> dict[str, Any]:
        # Shared with the workers without the index: it would double what each unpickles
        # (0.6 MB with 94 marks), and a worker makes it as fast as it would unpickle it.
        return {**self.__dict__, "_similar": None}

    def classify(self, title: str | None, text: str, language: str | None) -> Verdict:
        if not self.examples and not self.lexicon.may_score(f"{title or ''}\n{text}"):
            return Verdict(relevant=False, score=0.0, labels=(), evidence=())
        return self._classify(title, text)

    def _classify(self, title: str | None, text: str) -> Verdict:
        found = scan(title, text, self.lexicon)
        n = len(found.sentences)
        evidence = {tie: tie_evidence(found, tie) for tie in self.lexicon.names}
        present = {tie for tie, tie_found in evidence.items() if has_evidence(tie_found)}
        # No evidence, no score: the models' biases alone file nothing.
        scores = {
            tie: self.ties[tie].probability(features(tie_found, n)) if tie in present else 0.0
            for tie, tie_found in evidence.items()
        }
        score = 0.0
        read: tuple[str, ...] = ()
        if present:
            values = article_features(list(evidence.values()), n, self.relevance.top)
            score = self.relevance.probability(values)
            if self.wording is not None and self._unsure(score, present):
                worded = self.wording.probability(embedding(evidence_text(title, found)))
                score = blend(score, worded)
                read = (f"(unsure from the evidence alone; its wording scores {worded:.2f})",)
        score, taught = self._apply_marks(score, scores, f"{title or ''}\n{text}")
        ranked = sorted(scores, key=lambda tie: -scores[tie])  # stable: ties keep their order
        relevant = score >= self.threshold
        labels: tuple[str, ...] = ()
        if relevant:  # the ties that pass, or else the strongest
            labels = tuple(tie for tie in ranked if scores[tie] >= self.threshold) or (ranked[0],)
        return Verdict(
            relevant=relevant,
            score=round(score, 4),
            labels=labels,
            evidence=_evidence(found, labels or (ranked[0],)) + read + taught,
            ties=tuple((tie, round(scores[tie], 4)) for tie in ranked),
        )

    def _unsure(self, score: float, present: set[str]) -> bool:
        """Whether to read the wording too: the trees are unsure, and the evidence is of
        ties the wording was learnt on (a tie the user added has no examples there)."""
        return unsure(score, self.threshold) and present <= self.trained

    def _apply_marks(
        self, score: float, scores: dict[str, float], text: str
    ) -> tuple[float, tuple[str, ...]]:
        """Move the scores toward the user's marks on similar articles; say so."""
        if not self.examples:
            return score, ()
        said: list[str] = []
        if self._similar is None:
            self._similar = Similarities([example.vector for example in self.examples])
        similarities = self._similar.to(vector(text))
        for example, similarity in zip(self.examples, similarities, strict=True):
            pull = _PULL * _influence(similarity)
            if pull == 0:
                continue
            score = _toward(score, pull, example.relevant)
            for tie in example.labels or tuple(scores):
                if tie in scores:
                    scores[tie] = _toward(scores[tie], pull, example.relevant)
            mark = "relevant" if example.relevant else "irrelevant"
            said.append(f"(like an article you marked {mark}: {example.title[:120]})")
        return score, tuple(said[:2])


def _toward(score: float, pull: float, relevant: bool) -> float:
    return score + pull * (1 - score) if relevant else score - pull * score


def _influence(similarity: float) -> float:
    if similarity <= _SIMILAR_FROM:
        return 0.0
    return min(1.0, (similarity - _SIMILAR_FROM) / (_SIMILAR_FULL - _SIMILAR_FROM))


def scan(title: str | None, text: str, lexicon: Lexicon | None = None) -> Scan:
    lexicon = lexicon or default_lexicon()
    sentences, paragraphs = _sentences(text)
    named = _all_named(sentences, lexicon)
    title_named = _all_named([title], lexicon) if title else []
    title_hits = _hits([title], title_named, lexicon) if title else []
    title_ties = frozenset(hit.tie for hit in title_hits)
    hits = tuple(_hits(sentences, named, lexicon))
    attribution = lexicon.attribution
    attributed = frozenset(
        i
        for i in {hit.position for hit in hits}
        if attribution is not None and attribution.search(sentences[i].lower())
    )
    return Scan(
        tuple(sentences),
        tuple(paragraphs),
        tuple(named),
        hits,
        title_ties,
        lexicon,
        title_parties=title_named[0].parties if title_named else frozenset(),
        attributed=attributed,
    )


def tie_evidence(found: Scan, tie: str) -> TieEvidence:
    hits = [hit for hit in found.hits if hit.tie == tie]
    first, second = next(t.parties for t in found.lexicon.topics if t.name == tie)
    n = max(1, len(found.sentences))
    lead = any(hit.position < 3 for hit in hits)
    opening = found.named[:3]
    return TieEvidence(
        direct=sum(1 for hit in hits if hit.weight >= 0.7),
        near=sum(1 for hit in hits if hit.weight < 0.7),
        title=tie in found.title_ties,
        lead=lead,
        relation=sum(1 for hit in hits if found.lexicon.relation.search(hit.sentence.lower())),
        share_a=sum(first in named.parties for named in found.named) / n,
        share_b=sum(second in named.parties for named in found.named) / n,
        paragraph=_best_paragraph(found, hits),
        attributed=sum(1 for hit in hits if hit.position in found.attributed),
        alone=max(_alone(found, first, second), _alone(found, second, first)) / n,
        title_one=tie not in found.title_ties and len(found.title_parties & {first, second}) == 1,
        lead_one=not lead and any(bool(named.parties & {first, second}) for named in opening),
    )


def _alone(found: Scan, party: str, other: str) -> int:
    """Sentences naming ``party`` with ``other`` neither there nor next to it: how much
    of the text is about one party alone."""
    named = found.named
    return sum(
        1
        for i, here in enumerate(named)
        if party in here.parties
        and not any(other in named[j].parties for j in (i - 1, i, i + 1) if 0 <= j < len(named))
    )


def _best_paragraph(found: Scan, hits: list[_Hit]) -> float:
    """Evidence in the paragraph that has most ("a full paragraph of substance" is what
    makes an article relevant)."""
    per_paragraph: dict[int, float] = {}
    for hit in hits:
        paragraph = found.paragraphs[hit.position]
        per_paragraph[paragraph] = per_paragraph.get(paragraph, 0.0) + hit.weight
    return max(per_paragraph.values(), default=0.0)


def _sentences(text: str) -> tuple[list[str], list[int]]:
    """The sentences, and the paragraph (line) each belongs to.

    Fragments ("Share", "A", a byline) are dropped; ten characters still keep a Korean
    clause ("북한이 통신선을 끊었다.")."""
    sentences: list[str] = []
    paragraphs: list[int] = []
    for number, line in enumerate(_unwrap(text.splitlines())):
        for sentence in split_sentences(line):
            if len(sentence) >= 10:
                sentences.append(sentence)
                paragraphs.append(number)
    return sentences, paragraphs


def _unwrap(lines: list[str]) -> list[str]:
    """Paragraphs of a hard-wrapped text (statements and PDFs break lines at ~70
    characters, mid-sentence) joined back, so that a sentence is not cut in two and
    its parties read as far apart. A text is taken as wrapped when most of its lines
    end without a sentence's end; then a line continues until one does."""
    filled = [line for line in lines if line.strip()]
    if len(filled) < _WRAPPED_LINES or sum(
        not _LINE_END.search(line) for line in filled
    ) < _WRAPPED_SHARE * len(filled):
        return lines
    joined: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        if current and (not line.strip() or _LINE_END.search(line)):
            joined.append(" ".join(current))
            current = []
    if current:
        joined.append(" ".join(current))
    return joined


def _all_named(sentences: list[str], lexicon: Lexicon) -> list[_Named]:
    """Each pattern scans the joined sentences once (not once per sentence: an article
    has hundreds); a match is credited to the sentence it starts in."""
    original = "\n".join(sentences)
    joined = original.lower()
    starts = list(itertools.accumulate((len(s) + 1 for s in sentences[:-1]), initial=0))
    unsourced = _without_sources(original, joined, starts, lexicon)

    def where(pattern: re.Pattern[str] | None, text: str = joined) -> set[int]:
        if pattern is None:
            return set()
        return {bisect.bisect_right(starts, m.start()) - 1 for m in pattern.finditer(text)}

    parties = {name: where(party.pattern, unsourced) for name, party in lexicon.parties.items()}
    for name, party in lexicon.parties.items():
        if party.voice_when is not None and party.voice_when.search(joined[:_OPENING]):
            parties[name] |= where(party.voice, unsourced)
        if party.participant is not None:
            parties[name] -= where(party.participant)
    topics = {topic.name: where(topic.terms, unsourced) for topic in lexicon.topics}
    context = {topic.name: where(topic.context_terms) for topic in lexicon.topics}
    for topic in lexicon.topics:
        _infer_parties(topic, parties, topics[topic.name], context[topic.name])
    return [
        _Named(
            frozenset(name for name, found in parties.items() if i in found),
            frozenset(name for name, found in topics.items() if i in found),
            frozenset(name for name, found in context.items() if i in found),
        )
        for i in range(len(sentences))
    ]


def _without_sources(original: str, joined: str, starts: list[int], lexicon: Lexicon) -> str:
    """The lower-cased text with what names a party without making it one blanked out:
    a dateline, and a span naming a party only as the reporter ("South Korea's military
    said") when its sentence has a word of saying (the guidelines do not count a state
    that is only the source of a story as a party to it). Blanks keep every offset, so
    matches still fall in their sentences."""
    spans = [m.span() for m in _DATELINE.finditer(original)] if len(original) == len(joined) else []
    if lexicon.source is not None and lexicon.saying is not None:
        saying = lexicon.saying
        for match in lexicon.source.finditer(joined):
            i = bisect.bisect_right(starts, match.start()) - 1
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(joined)
            if saying.search(joined, starts[i], end):
                spans.append(match.span())
    if not spans:
        return joined
    pieces: list[str] = []
    done = 0
    for start, end in sorted(spans):
        if start >= done:
            pieces += [joined[done:start], " " * (end - start)]
            done = end
    return "".join(pieces) + joined[done:]


def _infer_parties(
    topic: Topic, parties: dict[str, set[int]], named: set[int], context: set[int]
) -> None:
    """A term that names the tie ("inter-Korean", 통일부) names both its parties; so does
    a context term ("남북", "loudspeakers") with a party named at most one sentence away
    (Seoul's press leaves the South implicit: "the government")."""
    near_party = parties[topic.parties[0]] | parties[topic.parties[1]]
    both = named | {i for i in context if near_party & {i - 1, i, i + 1}}
    for party in topic.parties:
        parties[party] |= both


def _hits(sentences: list[str], named: list[_Named], lexicon: Lexicon) -> list[_Hit]:
    """Evidence per sentence.

    A term naming the tie, or both parties in one sentence, weigh most; one party in the
    sentence and the other in a neighbouring one weighs less (wire copy names Pyongyang
    once, then says "the two sides")."""
    hits: list[_Hit] = []
    for i, sentence in enumerate(sentences):
        before = named[i - 1] if i else _NOTHING
        after = named[i + 1] if i + 1 < len(named) else _NOTHING
        window = named[i] | before | after
        for topic in lexicon.topics:
            weight = _weight(topic, named[i], window)
            if weight:
                hits.append(_Hit(topic.name, weight, sentence, i))
    return hits


def _weight(topic: Topic, here: _Named, window: _Named) -> float:
    a, b = topic.parties
    if topic.name in here.topics or (
        topic.name in here.context and (a in window.parties or b in window.parties)
    ):
        weight = 1.0
    elif a in here.parties and b in here.parties:
        weight = topic.pair_weight
    elif (a in here.parties and b in window.parties) or (b in here.parties and a in window.parties):
        weight = topic.near_weight
    else:
        return 0.0
    if topic.observer and topic.observer in window.parties:
        # Seoul in a sentence about the Moscow-Pyongyang axis is usually its observer,
        # not a party to a tie with Moscow.
        weight *= _OBSERVED
    return weight


def _evidence(found: Scan, ties: tuple[str, ...]) -> tuple[str, ...]:
    """The sentences that weighed most for these ties; with none, the sentence that
    came closest (the one naming the most), so a "no" can be read too."""
    ranked = sorted((hit for hit in found.hits if hit.tie in ties), key=lambda hit: -hit.weight)
    chosen: list[str] = []
    for hit in ranked:
        if hit.sentence[:400] not in chosen:
            chosen.append(hit.sentence[:400])
        if len(chosen) == _MAX_EVIDENCE:
            return tuple(chosen)
    if chosen or not found.sentences:
        return tuple(chosen)
    counts = [len(n.parties) + len(n.topics) + len(n.context) for n in found.named]
    closest = max(range(len(counts)), key=lambda i: counts[i])
    return (found.sentences[closest][:400],) if counts[closest] else ()
