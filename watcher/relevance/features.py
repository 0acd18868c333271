"""Evidence features per tie, computed from the lexicon hits of one article. Pure.

The classifier's weights are learned over these few numbers (not over words), so what
the model can learn is how much evidence of a tie, where, and how dense, makes an
article about that tie: little room to memorise individual articles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FEATURE_NAMES", "TieEvidence", "article_features", "features", "has_evidence"]

FEATURE_NAMES = (
    "direct",  # log(1 + sentences naming both parties, or a term naming the tie)
    "near",  # log(1 + sentences with one party, the other in a neighbouring sentence)
    "density",  # evidence per sentence of the article (at least 5 sentences counted)
    "title",  # the title names the tie
    "lead",  # evidence in the first three sentences
    "relation",  # log(1 + evidence sentences that also use a word of relations)
    "share_a",  # share of sentences naming the first party
    "share_b",  # share of sentences naming the second party
    "length",  # log of the number of sentences
    "together",  # sqrt(share_a * share_b): both parties present through the article
    "paragraph",  # log(1 + weighted evidence in the paragraph that has the most)
    "attributed",  # share of evidence sentences naming a party as a source ("according to")
    "alone",  # share of sentences about one party alone (the other not there or next to it)
    "title_one",  # the title names one party of the tie, not the tie
    "lead_one",  # the first three sentences name a party but carry no evidence of the tie
)


@dataclass(frozen=True, slots=True)
class TieEvidence:
    """What the sentence scan found for one tie."""

    direct: float
    near: float
    title: bool
    lead: bool
    relation: float
    share_a: float
    share_b: float
    paragraph: float
    attributed: float = 0.0
    alone: float = 0.0
    title_one: bool = False
    lead_one: bool = False


def features(evidence: TieEvidence, n_sentences: int) -> tuple[float, ...]:
    amount = evidence.direct + 0.5 * evidence.near
    return (
        math.log1p(evidence.direct),
        math.log1p(evidence.near),
        amount / max(5, n_sentences),
        1.0 if evidence.title else 0.0,
        1.0 if evidence.lead else 0.0,
        math.log1p(evidence.relation),
        evidence.share_a,
        evidence.share_b,
        math.log(max(1, n_sentences)),
        math.sqrt(evidence.share_a * evidence.share_b),
        math.log1p(evidence.paragraph),
        evidence.attributed / max(1.0, evidence.direct + evidence.near),
        evidence.alone,
        1.0 if evidence.title_one else 0.0,
        1.0 if evidence.lead_one else 0.0,
    )


def article_features(
    evidence: Sequence[TieEvidence], n_sentences: int, top: int
) -> tuple[float, ...]:
    """The features of the ``top`` ties with most evidence, strongest first (zeros for
    missing ones): what the article-level model reads. Ordered by strength, not by
    name, so a tie the user adds is read like the shipped ones."""
    ranked = sorted(evidence, key=_strength, reverse=True)[:top]  # stable on equal strength
    values = [value for tie in ranked for value in features(tie, n_sentences)]
    return tuple(values) + (0.0,) * (top * len(FEATURE_NAMES) - len(values))


def has_evidence(evidence: TieEvidence) -> bool:
    return evidence.direct > 0 or evidence.near > 0 or evidence.title


def _strength(evidence: TieEvidence) -> float:
    return evidence.direct + 0.5 * evidence.near + (1.0 if evidence.title else 0.0)
