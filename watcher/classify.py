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
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from watcher.relevance_features import FEATURE_NAMES, TieEvidence, features
from watcher.similarity import TermVector, cosine, vector

__all__ = [
    "TIES",
    "Classifier",
    "Example",
    "KeywordClassifier",
    "Scan",
    "TieModel",
    "Verdict",
    "load_model",
    "scan",
    "tie_evidence",
]

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
    # "the North" as Seoul's and KCNA's press say it, not a compass point
    r"\bthe\s+north\b(?!\s+(?:of|and|east|west|side|pole|sea|atlantic|american|african))",
    r"\bdprk\b",
    r"\bpyongyang",
    r"\bkim\s+jong[\s-]*un",
    r"\bkim\s+yo[\s-]*jong",
    r"\bkcna\b",
    r"북한|북측|북조선|조선민주주의인민공화국|평양|김정은|김여정|北(?=[\s·,'\"‘’“”]|$)",
    r"북·?러|러·?북|조·?러",  # Korean compounds: North Korea-Russia
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
    r"한국|남한|남측|대한민국|서울|윤석열|이재명|문재인|한·?러|러·?한",
    # South Korean firms abroad stand for Seoul in trade and sanctions stories.
    r"\bsamsung\b|\bhyundai\b|\bkia\b|\blotte\b|\bhanwha\b|\bposco\b|\bkogas\b",
    r"삼성|현대차|현대자동차|기아|롯데|한화|포스코|가스공사",
    r"самсунг|хендай|хёндэ|хундай|киа\b",
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
    r"러시아|모스크바|크렘린|푸틴|라브로프|쇼이구|북·?러|러·?북|조·?러|한·?러|러·?한|露",
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
    r"통일부|개성공단|판문점|이산가족",
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
    # 남북 alone also means "north and south" (of a strait, of a country): context needed.
    r"남북|평화통일|비무장지대|대북\s*전단|확성기|오물\s*풍선",
    r"объединени\w*\s+коре",
    r"wiedervereinigung",
)
# Words of a relation between states: a sentence naming two parties and one of these
# is about their ties, not a list of countries.
_RELATION = _terms(
    r"\btalks?\b|\bdialogue\b|\bsummit|\btreaty|\bagreement|\bdeal\b|\bpact\b",
    r"\bcooperat|\balliance|\bpartnership|\brelations\b|\bties\b|\bdiploma",
    r"\btroops?\b|\bsoldiers?\b|\bmunitions?\b|\bmissiles?\b|\bweapons?\b|\barms\b",
    r"\bsanction|\btrade\b|\binvest|\benergy\b|\bgas\b|\bpipeline|\bshipping|\brail",
    r"\bborder\b|\bdelegation|\bvisit|\benvoy|\bmeeting|\bexchange|\baid\b|\bsupport",
    r"\bprovocat|\btension|\bdeterr|\bthreat|\bdrone|\bballoon|\bloudspeaker|\bleaflet",
    r"\bpeace\b|\breconcil|\bengage|\bhostil|\bunification|\bdefector",
    r"회담|대화|협력|관계|조약|협정|파병|군사|무기|탄약|미사일|제재|교역|무역|투자|방문|대표단",
    r"지원|국경|도발|긴장|평화|대북|대남|통일|합의|동맹|수출|수입|공장|진출",
    r"переговор|сотруднич|договор|соглашени|отношени|войск|военн|оруж|боеприпас|ракет",
    r"санкци|торгов|инвестиц|визит|делегац|встреч|поддержк|газопровод|границ",
    r"gespräch|verhandl|zusammenarbeit|vertrag|abkommen|beziehung|truppen|soldaten|waffen",
    r"munition|rakete|sanktion|handel|besuch|delegation|annäherung|spannung",
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
    "the north", "北", "samsung", "hyundai", "kia", "lotte", "hanwha", "posco", "kogas", "삼성",
    "현대", "기아", "롯데", "한화", "포스코", "가스공사", "самсунг", "хендай", "хёндэ", "хундай",
    "киа", "러", "露",
)  # fmt: skip

# In the field order of _Actors.
_LEXICONS = {
    "north": _NORTH,
    "south": _SOUTH,
    "russia": _RUSSIA,
    "inter": _INTER_KOREAN,
    "inter_context": _INTER_KOREAN_CONTEXT,
}
# A sentence ends at . ! ? 。 before a space, or before Hangul with no space (Korean
# copy often runs on: "보도했다.이날").
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=[.!?])(?=[가-힣])")

_MAX_EVIDENCE = 3
_MODEL_FILE = Path(__file__).parent / "data" / "relevance_model.json"
# Which parties make each tie, as _Actors field names.
_PARTIES = {
    "inter-korean": ("north", "south"),
    "russia-nk": ("russia", "north"),
    "russia-sk": ("russia", "south"),
}


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
    actors: tuple[_Actors, ...]
    hits: tuple[_Hit, ...]
    title_ties: frozenset[str]


@dataclass(frozen=True, slots=True)
class TieModel:
    weights: tuple[float, ...]
    bias: float

    def probability(self, values: tuple[float, ...]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def load_model(path: Path = _MODEL_FILE) -> dict[str, TieModel]:
    """The shipped weights (scripts/train_relevance.py makes them from ../shared)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURE_NAMES:
        raise ValueError(f"{path}: trained on other features than this code computes")
    return {
        tie: TieModel(tuple(model["weights"]), float(model["bias"]))
        for tie, model in data["ties"].items()
    }


@dataclass(frozen=True, slots=True)
class Example:
    """An article the user marked, which similar articles follow."""

    title: str
    vector: TermVector
    relevant: bool
    labels: tuple[str, ...]  # the ties the user gave; none: all ties


_PULL = 0.5  # how far a near-copy of a marked article moves (scores are in [0, 1])
_SIMILAR_FROM = 0.3  # cosine above which marks start to count (random pairs: p99 0.33)
_SIMILAR_FULL = 0.7


class KeywordClassifier:
    """Lexicons find the evidence; learned weights decide how much is enough; the
    user's marks move similar articles the same way.

    Deterministic; the model is loaded once, when the classifier is made."""

    def __init__(
        self,
        threshold: float = 0.5,
        model: dict[str, TieModel] | None = None,
        examples: Sequence[Example] = (),
    ) -> None:
        self.threshold = threshold
        self.model = model if model is not None else load_model()
        self.examples = tuple(examples)

    def classify(self, title: str | None, text: str, language: str | None) -> Verdict:
        if not self.examples and not _may_score(f"{title or ''}\n{text}"):
            return Verdict(relevant=False, score=0.0, labels=(), evidence=())
        return self._classify(title, text)

    def _classify(self, title: str | None, text: str) -> Verdict:
        found = scan(title, text)
        scores = {tie: self._tie_score(found, tie) for tie in TIES}
        taught = self._apply_marks(scores, f"{title or ''}\n{text}")
        score = max(scores.values())
        labels = tuple(tie for tie in TIES if scores[tie] >= self.threshold)
        best = labels or (max(TIES, key=lambda t: scores[t]),)
        return Verdict(
            relevant=score >= self.threshold,
            score=round(score, 4),
            labels=labels,
            evidence=_evidence(found, best) + taught,
        )

    def _apply_marks(self, scores: dict[str, float], text: str) -> tuple[str, ...]:
        """Move the scores toward the user's marks on similar articles; say so."""
        if not self.examples:
            return ()
        mine = vector(text)
        said: list[str] = []
        for example in self.examples:
            pull = _PULL * _influence(cosine(mine, example.vector))
            if pull == 0:
                continue
            for tie in example.labels or TIES:
                if example.relevant:
                    scores[tie] += pull * (1 - scores[tie])
                else:
                    scores[tie] -= pull * scores[tie]
            mark = "relevant" if example.relevant else "irrelevant"
            said.append(f"(like an article you marked {mark}: {example.title[:120]})")
        return tuple(said[:2])

    def _tie_score(self, found: Scan, tie: str) -> float:
        evidence = tie_evidence(found, tie)
        if evidence.direct == 0 and evidence.near == 0 and not evidence.title:
            return 0.0  # no evidence, no score: the model's bias alone files nothing
        return self.model[tie].probability(features(evidence, len(found.sentences)))


def _influence(similarity: float) -> float:
    if similarity <= _SIMILAR_FROM:
        return 0.0
    return min(1.0, (similarity - _SIMILAR_FROM) / (_SIMILAR_FULL - _SIMILAR_FROM))


def scan(title: str | None, text: str) -> Scan:
    sentences, paragraphs = _sentences(text)
    actors = _all_actors(sentences)
    title_hits = _hits([title], _all_actors([title])) if title else []
    title_ties = frozenset(hit.tie for hit in title_hits)
    hits = tuple(_hits(sentences, actors))
    return Scan(tuple(sentences), tuple(paragraphs), tuple(actors), hits, title_ties)


def tie_evidence(found: Scan, tie: str) -> TieEvidence:
    hits = [hit for hit in found.hits if hit.tie == tie]
    first, second = _PARTIES[tie]
    n = max(1, len(found.sentences))
    return TieEvidence(
        direct=sum(1 for hit in hits if hit.weight >= 0.7),
        near=sum(1 for hit in hits if hit.weight < 0.7),
        title=tie in found.title_ties,
        lead=any(hit.position < 3 for hit in hits),
        relation=sum(1 for hit in hits if _RELATION.search(hit.sentence.lower())),
        share_a=sum(getattr(a, first) for a in found.actors) / n,
        share_b=sum(getattr(a, second) for a in found.actors) / n,
        paragraph=_best_paragraph(found, hits),
    )


def _best_paragraph(found: Scan, hits: list[_Hit]) -> float:
    """Evidence sentences in the paragraph that has most ("a full paragraph of
    substance" is what makes an article relevant)."""
    per_paragraph: dict[int, float] = {}
    for hit in hits:
        paragraph = found.paragraphs[hit.position]
        per_paragraph[paragraph] = per_paragraph.get(paragraph, 0.0) + hit.weight
    return max(per_paragraph.values(), default=0.0)


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


def _sentences(text: str) -> tuple[list[str], list[int]]:
    """The sentences, and the paragraph (line) each belongs to.

    Fragments ("Share", "A", a byline) are dropped; ten characters still keep a Korean
    clause ("북한이 통신선을 끊었다.")."""
    sentences: list[str] = []
    paragraphs: list[int] = []
    for number, line in enumerate(text.splitlines()):
        for sentence in _SENTENCE.split(line):
            if len(sentence.strip()) >= 10:
                sentences.append(sentence.strip())
                paragraphs.append(number)
    return sentences, paragraphs


def _all_actors(sentences: list[str]) -> list[_Actors]:
    """Each lexicon scans the joined sentences once (not once per sentence: an article
    has hundreds); a match is credited to the sentence it starts in."""
    joined = "\n".join(sentences).lower()
    starts = list(itertools.accumulate((len(s) + 1 for s in sentences[:-1]), initial=0))
    found: dict[str, set[int]] = {}
    for name, pattern in _LEXICONS.items():
        found[name] = {bisect.bisect_right(starts, m.start()) - 1 for m in pattern.finditer(joined)}
    # A term that names inter-Korean matters ("inter-Korean", 통일부) names both Koreas;
    # so does a context term ("남북", "loudspeakers") with a Korea named at most one
    # sentence away (Seoul's press leaves the South implicit: "the government").
    korea = found["north"] | found["south"]
    both = found["inter"] | {i for i in found["inter_context"] if korea & {i - 1, i, i + 1}}
    for side in ("north", "south"):
        found[side] |= both
    return [_Actors(*(i in found[name] for name in _LEXICONS)) for i in range(len(sentences))]


def _hits(sentences: list[str], actors: list[_Actors]) -> list[_Hit]:
    """Evidence per sentence.

    Both parties of a tie in one sentence weigh 1; one of them only in a neighbouring
    sentence weighs half (wire copy names Pyongyang once, then says "the two sides").
    """
    hits: list[_Hit] = []
    for i, sentence in enumerate(sentences):
        before = actors[i - 1] if i else _NOBODY
        after = actors[i + 1] if i + 1 < len(actors) else _NOBODY
        for tie, weight in _sentence_ties(actors[i], actors[i] | before | after):
            hits.append(_Hit(tie, weight, sentence, i))
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


def _evidence(found: Scan, ties: tuple[str, ...]) -> tuple[str, ...]:
    """The sentences that weighed most for these ties; with none, the sentence that
    came closest (the one naming the most parties), so a "no" can be read too."""
    ranked = sorted((hit for hit in found.hits if hit.tie in ties), key=lambda hit: -hit.weight)
    chosen: list[str] = []
    for hit in ranked:
        if hit.sentence[:400] not in chosen:
            chosen.append(hit.sentence[:400])
        if len(chosen) == _MAX_EVIDENCE:
            return tuple(chosen)
    if chosen or not found.sentences:
        return tuple(chosen)
    named = [sum((a.north, a.south, a.russia, a.inter, a.inter_context)) for a in found.actors]
    closest = max(range(len(named)), key=lambda i: named[i])
    return (found.sentences[closest][:400],) if named[closest] else ()
