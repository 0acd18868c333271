"""What names a party without making it one (GUIDELINES.md's boundaries), on texts of
our own: Seoul as a member of its alliances, and a wire story's dateline."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import shared_path
from watcher.relevance.classify import _DATELINE, scan, tie_evidence


@pytest.mark.parametrize(
    "sentence",
    [
        "The United States, Japan and South Korea condemned North Korea's missile launch.",
        "Leaders at the trilateral summit urged North Korea to return to denuclearisation.",
        "The U.S.-ROK alliance will answer any North Korean attack with overwhelming force.",
        "Washington and Seoul began their annual drills, which North Korea calls a rehearsal.",
        "한미 연합훈련에 북한이 강하게 반발했다.",
        "США и Южная Корея провели учения, КНДР выразила протест.",
    ],
)
def test_seoul_as_a_member_of_its_alliances_is_not_a_party(sentence: str) -> None:
    found = scan(None, sentence)
    assert found.named[0].parties == {"north"}
    assert tie_evidence(found, "inter-korean").direct == 0


@pytest.mark.parametrize(
    "sentence",
    [
        "South Korea proposed military talks with North Korea at Panmunjom.",
        "북한이 남한에 오물 풍선을 날려 보냈다.",
    ],
)
def test_seoul_on_its_own_is_still_a_party(sentence: str) -> None:
    assert tie_evidence(scan(None, sentence), "inter-korean").direct == 1


def test_a_dateline_names_no_party() -> None:
    yonhap = "SEOUL, Dec. 29 (Yonhap) -- North Korean leader Kim Jong-un oversaw a test."
    assert all("south" not in named.parties for named in scan(None, yonhap).named)
    reuters = "SEOUL North Korea said on Friday it had detained a student."
    assert scan(None, reuters).named[0].parties == {"north"}
    moscow = "MOSCOW (Reuters) - North Korean leader Kim Jong Un praised his troops."
    assert scan(None, moscow).named[0].parties == {"north"}
    # the same city in the running text is a party
    talks = "Seoul and Pyongyang held talks. NATO and SEOUL officials met."
    assert [named.parties for named in scan(None, talks).named] == [
        {"north", "south"},
        {"south"},
    ]


def test_seouls_ministry_as_the_source_is_not_a_party() -> None:
    """Korean copy quoting the unification ministry on the North's own affairs (a
    briefing on Kim's daughter) is the South as the source; proposing talks is a tie."""
    briefing = "통일부 당국자는 김정은 북한 국무위원장의 딸이 후계자일 수 있다고 밝혔다."
    assert scan(None, briefing).named[0].parties == {"north"}
    headline = scan('통일부 "북한 김주애, 후계구도보다 가정의 모습"', "")
    assert headline.title_parties == {"north"}
    proposal = "통일부는 북한에 남북 대화 재개를 제안했다."
    assert tie_evidence(scan(None, proposal), "inter-korean").direct == 1


def test_a_korean_dateline_names_no_party() -> None:
    found = scan(None, "[서울=뉴시스] 김정은 북한 국무위원장이 미사일 발사를 참관했다.")
    assert found.named[0].parties == {"north"}


@pytest.mark.shared
def test_the_dateline_pattern_finds_what_it_finds_without_its_look_ahead() -> None:
    """The dateline's branches begin with an assertion, so a look-ahead for its first
    characters is put in front (``lexicon.look_ahead``); on every labelled article it
    finds the same spans as the pattern as written."""
    assert _DATELINE.pattern.startswith("(?=[")
    written = re.compile(_DATELINE.pattern.split(")(?:", 1)[1].removesuffix(")"))
    lines = shared_path("eval", "relevance", "articles.jsonl").read_text(encoding="utf-8")
    text = "\n".join(f"{a['title']}\n{a['text']}" for a in map(json.loads, lines.splitlines()))
    spans = [m.span() for m in written.finditer(text)]
    assert len(spans) > 20
    assert [m.span() for m in _DATELINE.finditer(text)] == spans
