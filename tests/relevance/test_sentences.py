"""Sentences as the classifier reads them: an initial does not end one."""

from __future__ import annotations

import pytest

from watcher.relevance.classify import KeywordClassifier, scan
from watcher.relevance.sentences import split_sentences


@pytest.mark.parametrize(
    ("line", "sentences"),
    [
        (
            "S. Korea proposed talks to N. Korea on Monday. Pyongyang did not answer.",
            ["S. Korea proposed talks to N. Korea on Monday.", "Pyongyang did not answer."],
        ),
        (
            "В. Путин принял делегацию КНДР. Переговоры шли два часа.",
            ["В. Путин принял делегацию КНДР.", "Переговоры шли два часа."],
        ),
        (
            "북한이 통신선을 끊었다.이날 통일부는 유감을 밝혔다. 그러나 답은 없었다.",
            ["북한이 통신선을 끊었다.", "이날 통일부는 유감을 밝혔다.", "그러나 답은 없었다."],
        ),
        # A dotted acronym still ends a sentence: "by the U.S." ends many.
        (
            "The sanctions were imposed by the U.S. Seoul joined them.",
            ["The sanctions were imposed by the U.S.", "Seoul joined them."],
        ),
        (
            "Talks failed (N. Korea walked out). Seoul waits.",
            ["Talks failed (N. Korea walked out).", "Seoul waits."],
        ),
    ],
)
def test_a_line_is_cut_at_full_stops_but_not_after_an_initial(
    line: str, sentences: list[str]
) -> None:
    assert split_sentences(line) == sentences


def test_the_koreas_named_by_their_initials_are_evidence_in_one_sentence() -> None:
    """Yonhap's English copy writes "S. Korea" and "N. Korea": cut after the initials,
    neither party was found, and the verdict had nothing to quote."""
    title = "S. Korea offers N. Korea military talks on border incidents"
    text = "\n".join(
        [
            "SEOUL, July 21 (Yonhap) -- S. Korea on Monday offered N. Korea military talks to"
            " prevent clashes along the border, the defense ministry said.",
            "The ministry said S. Korea proposed that the talks be held at the truce village of"
            " Panmunjom, and N. Korea has yet to respond.",
            "It is the first such offer to N. Korea in seven years, officials said.",
        ]
    )
    found = scan(title, text)
    assert {hit.tie for hit in found.hits} == {"inter-korean"}
    assert any("S. Korea" in h.sentence and "N. Korea" in h.sentence for h in found.hits)
    verdict = KeywordClassifier().classify(title, text, "en")
    assert verdict.relevant, verdict
    assert verdict.labels == ("inter-korean",)
