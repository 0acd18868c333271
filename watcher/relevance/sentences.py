"""A line of text cut into sentences, as the classifier reads them and the digest quotes them.

A full stop before a space ends a sentence, except after an initial: one capital letter
and its full stop ("S. Korea", "N. Korea", "В. Путин"). Cutting there split "S. Korea"
into "S." and "Korea", so the lexicon's own "s. korea" and "n. korea" never matched
(Yonhap's English copy names the Koreas so in most headlines), and the evidence quoted
"Korea agreed to ..." without its subject. A sentence rarely ends on one capital letter.

Other abbreviations were tried and left splitting: a dotted acronym ends many a sentence
("sanctions imposed by the U.S."), and joining after acronyms, titles, months or before a
lower-case word cost the classifier 0.01 to 0.02 of cross-validated F1.

Korean copy has no initials; a full stop followed directly by Hangul also ends a sentence
there ("보도했다.이날").
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

_BOUNDARY = re.compile(r"(?<=[.!?。])\s+|(?<=[.!?])(?=[가-힣])")
_INITIAL = re.compile(r"(?:^|(?<=[\s\"'“(«]))[A-ZА-ЯЁ]\.$")


def split_sentences(line: str) -> list[str]:
    """One line's sentences, each as it stands in the line (stripped)."""
    sentences = []
    start = 0
    for boundary in _BOUNDARY.finditer(line):
        before = line[start : boundary.start()]
        if _INITIAL.search(before[-3:]):  # the last word: no need to scan the piece
            continue
        sentences.append(before)
        start = boundary.end()
    sentences.append(line[start:])
    return [sentence.strip() for sentence in sentences if sentence.strip()]
