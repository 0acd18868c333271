"""Relevance to the beat -> Verdict (relevant, score, labels, evidence). Pure.

A first, transparent scorer: every sentence is checked for the actors of each tie
(North Korea, South Korea, Russia, in English, Korean, Russian and German) and for
words that name inter-Korean matters outright. A sentence where two actors of a tie
meet, or an explicit inter-Korean term, is evidence for that tie. The tie's score grows
with the amount of evidence and its share of the article, so a passing mention in a
long piece on something else stays low. The sentences that weighed most are returned,
so a reader can see why. ``Classifier`` is the interface callers use: a better model
replaces ``KeywordClassifier`` without touching them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from dataclasses import dataclass
from typing import Protocol

__all__ = ["TIES", "Classifier", "KeywordClassifier", "Verdict"]

TIES = ("inter-korean", "russia-nk", "russia-sk")


@dataclass(frozen=True, slots=True)
class Verdict:
    relevant: bool
    score: float
    labels: tuple[str, ...]
    evidence: tuple[str, ...]


class Classifier(Protocol):
    def classify(self, title: str | None, text: str, language: str | None) -> Verdict: ...


def _terms(*patterns: str) -> re.Pattern[str]:
    """One pattern over lower-cased text: IGNORECASE makes Python's re several times
    slower on alternations like these, so the text is lower-cased once instead."""
    joined = "|".join(f"(?:{p})" for p in patterns)
    if joined != joined.lower():
        raise ValueError(f"lexicon patterns must be lower case: {joined!r}")
    return re.compile(joined)


# Stems rather than words where the language inflects (Russian, Korean particles).
_NORTH = _terms(
    r"\bnorth(?:ern)?[\s-]+korea",
    r"\bn\.\s?korea",
    r"\bdemocratic\s+people'?s\s+republic\s+of\s+korea\b",
    r"\bkorean\s+people'?s\s+army\b|\bkpa\b|\bwpk\b",
    r"\bdprk\b",
    r"\bpyongyang",
    r"\bkim\s+jong[\s-]*un",
    r"\bkim\s+yo[\s-]*jong",
    r"\bkcna\b",
    r"북한|북측|북조선|조선민주주의인민공화국|평양|김정은|김여정",
    r"\bкндр\b|северн\w*\s+коре|северокорейск|пхеньян|ким\s+чен\s+ын",
    r"nordkorea|pjöngjang",
)
_SOUTH = _terms(
    r"\bsouth(?:ern)?[\s-]+korea",
    r"\bs\.\s?korea",
    r"\bpuppets?\b",  # KCNA's name for the South's government and army
    r"\bcheong\s+wa\s+dae\b",
    r"\brepublic\s+of\s+korea\b",
    r"\brok\b",
    r"\bseoul\b",
    r"\byoon\s+suk[\s-]*yeol",
    r"\blee\s+jae[\s-]*myung",
    r"\bmoon\s+jae[\s-]*in",
    r"한국|남한|남측|대한민국|서울|윤석열|이재명|문재인",
    r"южн\w*\s+коре|южнокорейск|республик\w*\s+коре|сеул",
    r"südkorea",
)
_RUSSIA = _terms(
    r"\brussia",
    r"\bmoscow\b",
    r"\bkremlin\b",
    r"\bputin\b",
    r"\blavrov\b",
    r"\bshoigu\b",
    r"러시아|모스크바|크렘린|푸틴|라브로프|쇼이구",
    r"росси|\bрф\b|москв|кремл|путин|лавров|шойгу",
    r"russland|russisch|moskau",
)
# Terms that name inter-Korean matters by themselves...
_INTER_KOREAN = _terms(
    r"\binter[\s-]*korean\b",
    r"\btwo\s+koreas\b",
    r"\bboth\s+koreas\b",
    r"\bnorth\s+and\s+south\s+korea",
    r"\bsouth\s+and\s+north\s+korea",
    r"\bsunshine\s+policy\b",
    r"\bkaesong\b",
    r"\bpanmunjom\b",
    r"남북|통일부|개성공단|판문점|이산가족",
    r"межкорейск",
    r"innerkoreanisch",
)
# ...and terms that do only with a Korea named in the same or a neighbouring sentence.
_INTER_KOREAN_CONTEXT = _terms(
    r"\b(?:re)?unification\b",
    r"\bdemilitari[sz]ed\s+zone\b|\bdmz\b",
    r"\bnorthern\s+limit\s+line\b",
    r"\bseparated\s+families\b",
    r"\bliaison\s+office\b",
    r"\bloudspeakers?\b",
    r"\b(?:trash|garbage|propaganda)\s+balloons?\b",
    r"\bpropaganda\s+leaflets?\b|\banti-pyongyang\s+leaflets?\b",
    r"평화통일|비무장지대|대북\s*전단|확성기|오물\s*풍선",
    r"объединени\w*\s+коре",
    r"wiedervereinigung",
)
# Every tie needs a Korea actor or a strong inter-Korean term, and each of those
# patterns contains one of these literals: a text with none of them cannot score, and is
# answered without running the patterns (most pages a feed brings are off the beat).
# tests/test_classify.py checks that verdicts with and without this shortcut agree.
_ANCHORS = (
    "korea", "dprk", "pyongyang", "kim jong", "kim yo", "kcna", "kpa", "wpk", "rok",
    "seoul", "yoon suk", "lee jae", "moon jae", "puppet", "cheong wa dae", "sunshine",
    "kaesong", "panmunjom", "북", "조선", "평양", "김정은", "김여정", "한국", "남한", "남측",
    "대한민국", "서울", "윤석열", "이재명", "문재인", "남북", "통일부", "개성공단", "판문점",
    "이산가족", "кндр", "коре", "пхеньян", "ким чен", "сеул", "pjöngjang", "innerkoreanisch",
)  # fmt: skip

# In the field order of _Actors.
_LEXICONS = {
    "north": _NORTH,
    "south": _SOUTH,
    "russia": _RUSSIA,
    "inter": _INTER_KOREAN,
    "inter_context": _INTER_KOREAN_CONTEXT,
}
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")

_TITLE_WEIGHT = 2.0  # a title that names the tie counts like two sentences of evidence
_SATURATION = 2.5  # evidence units at which a tie's score reaches about 0.63
_MAX_EVIDENCE = 3


@dataclass(frozen=True, slots=True)
class _Hit:
    tie: str
    weight: float
    sentence: str


class KeywordClassifier:
    """Lexicon and co-occurrence scorer; deterministic, no model to load."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def classify(self, title: str | None, text: str, language: str | None) -> Verdict:
        if not _may_score(f"{title or ''}\n{text}"):
            return Verdict(relevant=False, score=0.0, labels=(), evidence=())
        return self._classify(title, text)

    def _classify(self, title: str | None, text: str) -> Verdict:
        sentences = _sentences(text)
        hits = _hits(sentences)
        title_hits = _hits([title]) if title else []
        scores = {tie: _tie_score(tie, hits, title_hits, len(sentences)) for tie in TIES}
        score = max(scores.values())
        labels = tuple(tie for tie in TIES if scores[tie] >= self.threshold)
        return Verdict(
            relevant=score >= self.threshold,
            score=round(score, 4),
            labels=labels,
            evidence=_evidence(hits, labels or (max(scores, key=lambda t: scores[t]),)),
        )


@dataclass(frozen=True, slots=True)
class _Actors:
    north: bool
    south: bool
    russia: bool
    inter: bool
    inter_context: bool

    def __or__(self, other: _Actors) -> _Actors:
        return _Actors(
            self.north or other.north,
            self.south or other.south,
            self.russia or other.russia,
            self.inter or other.inter,
            self.inter_context or other.inter_context,
        )


_NOBODY = _Actors(False, False, False, False, False)


def _may_score(text: str) -> bool:
    lowered = text.lower()
    return any(anchor in lowered for anchor in _ANCHORS)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]


def _all_actors(sentences: list[str]) -> list[_Actors]:
    """Each lexicon scans the joined sentences once (not once per sentence: an article
    has hundreds); a match is credited to the sentence it starts in."""
    joined = "\n".join(sentences).lower()
    starts = list(itertools.accumulate((len(s) + 1 for s in sentences[:-1]), initial=0))
    found: dict[str, set[int]] = {}
    for name, pattern in _LEXICONS.items():
        found[name] = {bisect.bisect_right(starts, m.start()) - 1 for m in pattern.finditer(joined)}
    return [_Actors(*(i in found[name] for name in _LEXICONS)) for i in range(len(sentences))]


def _hits(sentences: list[str]) -> list[_Hit]:
    """Evidence per sentence.

    Both parties of a tie in one sentence weigh 1; one of them only in a neighbouring
    sentence weighs half (wire copy names Pyongyang once, then says "the two sides").
    """
    actors = _all_actors(sentences)
    hits: list[_Hit] = []
    for i, sentence in enumerate(sentences):
        before = actors[i - 1] if i else _NOBODY
        after = actors[i + 1] if i + 1 < len(actors) else _NOBODY
        for tie, weight in _sentence_ties(actors[i], actors[i] | before | after):
            hits.append(_Hit(tie, weight, sentence))
    return hits


def _sentence_ties(here: _Actors, window: _Actors) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    korea = here.north or here.south
    if here.inter or (here.inter_context and (korea or window.north or window.south)):
        found.append(("inter-korean", 1.0))
    elif here.north and here.south:
        found.append(("inter-korean", 0.7))
    elif korea and window.north and window.south:
        found.append(("inter-korean", 0.35))
    for tie, party in (("russia-nk", "north"), ("russia-sk", "south")):
        in_here = getattr(here, party)
        if here.russia and in_here:
            weight = 1.0
        elif (here.russia and getattr(window, party)) or (in_here and window.russia):
            weight = 0.5
        else:
            continue
        if tie == "russia-sk" and window.north:
            # With North Korea in view, Seoul is usually the observer of the
            # Moscow-Pyongyang axis rather than a party to a tie with Moscow.
            weight *= 0.4
        found.append((tie, weight))
    return found


def _tie_score(tie: str, hits: list[_Hit], title_hits: list[_Hit], n_sentences: int) -> float:
    evidence = sum(hit.weight for hit in hits if hit.tie == tie)
    evidence += _TITLE_WEIGHT * max((h.weight for h in title_hits if h.tie == tie), default=0.0)
    if evidence == 0:
        return 0.0
    amount = 1.0 - math.exp(-evidence / _SATURATION)
    # Share of the article: a long piece with two Korea sentences is a passing mention.
    share = min(1.0, evidence / max(6.0, 0.15 * n_sentences))
    return amount * (0.6 + 0.4 * share)


def _evidence(hits: list[_Hit], ties: tuple[str, ...]) -> tuple[str, ...]:
    ranked = sorted(
        (hit for hit in hits if hit.tie in ties), key=lambda hit: -hit.weight
    )  # stable: among equals, the article's order
    chosen: list[str] = []
    for hit in ranked:
        if hit.sentence not in chosen:
            chosen.append(hit.sentence[:400])
        if len(chosen) == _MAX_EVIDENCE:
            break
    return tuple(chosen)
