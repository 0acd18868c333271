"""Topics are configuration: a user adds a tie, or replaces a default, without code."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_watcher, shared_path
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.relevance.classify import TIES, KeywordClassifier
from watcher.relevance.lexicon import DEFAULT_TOPICS, build_lexicon, default_lexicon, look_ahead

CHINA = """
[[parties]]
name = "china"
terms = ['\\bchina\\b|\\bbeijing\\b|\\bchinese\\b|\\bxi\\s+jinping', '중국|베이징|시진핑']

[[topics]]
name = "china-nk"
parties = ["china", "north"]
"""
CHINA_NK = (
    "China and North Korea marked the anniversary of their friendship treaty in Beijing. "
    "Xi Jinping told the North Korean delegation that China would deepen cooperation with "
    "Pyongyang. Chinese trade with North Korea rose sharply this year."
)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_three_ties() -> None:
    assert default_lexicon().names == TIES == ("inter-korean", "russia-nk", "russia-sk")


def test_a_user_adds_a_tie(tmp_path: Path) -> None:
    """A China-North Korea tie from the configuration labels a text; defaults still work."""
    config = load_config(_config(tmp_path, CHINA), environ={})
    lexicon = config.lexicon()
    assert lexicon.names == (*TIES, "china-nk")
    classifier = KeywordClassifier(0.5, lexicon=lexicon)
    verdict = classifier.classify("Friends", CHINA_NK, "en")
    assert verdict.relevant
    assert verdict.labels == ("china-nk",)
    assert not KeywordClassifier(0.5).classify("Friends", CHINA_NK, "en").relevant


def test_a_configuration_without_tables_compiles_nothing_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that never classifies (``items list``) does not pay for the shipped
    patterns; one with tables of the user's has them compiled (and checked) at load."""
    from watcher.config import model

    built: list[int] = []
    monkeypatch.setattr(model, "build_lexicon", lambda *tables: built.append(1) or "built")
    config = load_config(_config(tmp_path, ""), environ={})
    assert built == []
    assert config.lexicon() is default_lexicon()

    with_tables = load_config(_config(tmp_path, CHINA), environ={})
    assert built == [1]
    assert with_tables.lexicon() == "built"


def test_classify_command_uses_configured_topics(tmp_path: Path) -> None:
    path = _config(tmp_path, CHINA)
    result = run_watcher(
        "--config",
        str(path),
        "classify",
        "--jsonl",
        "-",
        stdin=json.dumps({"id": "c", "text": CHINA_NK}) + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["labels"] == ["china-nk"]


def test_a_default_topic_is_replaced_by_name() -> None:
    """Redefining russia-sk with an unlikely term leaves only that term naming it."""
    lexicon = build_lexicon(
        (),
        [
            {
                "name": "russia-sk",
                "parties": ["russia", "south"],
                "terms": ["\\bzzyzx\\b"],
                "pair_weight": 0.1,
            }
        ],
    )
    assert lexicon.names == TIES
    topic = next(t for t in lexicon.topics if t.name == "russia-sk")
    assert topic.pair_weight == 0.1
    assert topic.terms is not None
    assert topic.terms.search("a zzyzx b") is not None
    assert topic.terms.search("azzyzx") is None


def test_a_topic_without_anchors_is_never_skipped() -> None:
    """With no anchors the cheap pre-test cannot rule the topic out, so it doesn't."""
    lexicon = build_lexicon(
        [
            {"name": "tibet", "terms": ["\\blhasa\\b"]},
            {"name": "nepal", "terms": ["\\bkathmandu\\b"]},
        ],
        [{"name": "tibet-nepal", "parties": ["tibet", "nepal"]}],
    )
    text = "Officials from Lhasa met their counterparts in Kathmandu to discuss border trade."
    assert lexicon.may_score(text.lower())
    verdict = KeywordClassifier(0.5, lexicon=lexicon).classify(None, text * 3, "en")
    assert "tibet-nepal" in verdict.labels


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[topics]]\nname = "x"\nparties = ["north", "mars"]\n', "unknown party 'mars'"),
        ("[[parties]]\nname = \"p\"\nterms = ['(unclosed']\n", "bad pattern"),
        ("[[parties]]\nname = \"p\"\nterms = ['UPPER']\n", "must be lower case"),
        ('[[topics]]\nname = "x"\nparties = ["north"]\n', "[[topics]] 'x' (the 1st).parties"),
        ('[[topics]]\nname = "x"\nparties = ["north", "south"]\ncolour = 1\n', "unknown key"),
        (
            "[[parties]]\nname = \"p\"\nterms = ['p']\nvoice = ['\\bwe\\b']\n",
            "voice and voice_when go together",
        ),
    ],
)
def test_bad_topics_are_configuration_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert needle in str(caught.value)
    assert str(path) in str(caught.value)


def test_word_boundaries_hold_in_the_compiled_patterns() -> None:
    """Patterns are rewritten for speed ("\\bkia" -> "k(?<!\\wk)ia"); the boundary holds."""
    south = default_lexicon().parties["south"].pattern
    assert south.search("kia motors said") is not None
    assert south.search("nokia said") is None
    assert south.search("the rok said") is not None
    assert south.search("the brok said") is None
    user = build_lexicon(
        [{"name": "p", "terms": ["x(a|b)|[|]y|\\|z|\\bw[0-9]"]}],
        [{"name": "t", "parties": ["p", "north"]}],
    ).parties["p"]
    found = [m.group() for m in user.pattern.finditer("xb |y |z w1 aw2")]
    assert found == ["xb", "|y", "|z", "w1"]


def test_a_pattern_led_by_groups_or_assertions_looks_at_the_next_character_first() -> None:
    """Branches that begin with a group or an assertion get the characters a match can
    begin with in front (re then skips ahead); the matches are the same."""
    written = [
        "\\b(?:u\\.s\\.|japan|south\\s+korea)[\\s-]+(?:rok|seoul)\\b",
        "(?<![가-힣])정부(?=[은는이가]|$)|우리\\s*(?:정부|군)",
        "\\b(?:re)?unification\\b",
    ]
    pattern = build_lexicon([{"name": "p", "terms": written}], []).parties["p"].pattern
    head = re.match(r"\(\?=\[([^]]*)\]\)", pattern.pattern)
    assert head is not None, pattern.pattern
    assert set(head[1]) == set("ujs정우ru")
    text = (
        "japan - rok talks; u.s. seoul; the 정부는 said; 한국정부가; 우리 군; "
        "reunification, unification, disunification, xjapan seoul"
    )
    plain = re.compile("|".join(f"(?:{w})" for w in written))
    found = [m.group() for m in pattern.finditer(text)]
    assert found == [m.group() for m in plain.finditer(text)]
    assert found == ["japan - rok", "u.s. seoul", "정부", "우리 군", "reunification", "unification"]


@pytest.mark.parametrize(
    "written",
    [
        "\\bnorth\\s+korea|\\bpyongyang",  # re skips ahead on letters by itself
        "(?:north)?|south",  # matches the empty string
        "\\w+ist\\b|(?:a|b)c",  # \\w: too wide a class to look for
        "(?i:\\bseoul)|\\bmoscow",  # a flag in a group: its case would widen the class
    ],
)
def test_a_pattern_is_left_alone_when_a_look_ahead_would_not_help(written: str) -> None:
    pattern = build_lexicon([{"name": "p", "terms": [written]}], []).parties["p"].pattern
    assert not pattern.pattern.startswith("(?=")


def test_a_global_flag_keeps_its_place_at_the_start() -> None:
    assert look_ahead("(?i)\\bseoul|\\bmoscow") == "(?i)\\bseoul|\\bmoscow"
    assert look_ahead("\\bseoul|\\bmoscow") == "(?=[ms])(?:\\bseoul|\\bmoscow)"


@pytest.mark.shared
def test_compiled_patterns_match_what_they_are_written_to() -> None:
    """On every labelled article, each rewritten pattern (parties, their voice and
    participant, topics, relation, source, saying, attribution) finds exactly the spans
    the pattern of topics.toml finds as written."""
    data = tomllib.loads(DEFAULT_TOPICS.read_text(encoding="utf-8"))
    lexicon = default_lexicon()
    topics = {topic.name: topic for topic in lexicon.topics}
    pairs: list[tuple[list[str] | None, re.Pattern[str] | None]] = []
    for table in data["parties"]:
        party = lexicon.parties[table["name"]]
        pairs += [
            (table["terms"], party.pattern),
            (table.get("voice"), party.voice),
            (table.get("voice_when"), party.voice_when),
            (table.get("participant"), party.participant),
        ]
    for table in data["topics"]:
        topic = topics[table["name"]]
        pairs += [
            (table.get("terms"), topic.terms),
            (table.get("context_terms"), topic.context_terms),
        ]
    pairs += [
        (data["relation"]["terms"], lexicon.relation),
        (data["attribution"]["terms"], lexicon.attribution),
        (data["source"]["terms"], lexicon.source),
        (data["source"]["saying"], lexicon.saying),
    ]
    lines = shared_path("eval", "relevance", "articles.jsonl").read_text(encoding="utf-8")
    text = "\n".join(
        f"{a['title']}\n{a['text']}".lower() for a in map(json.loads, lines.splitlines())
    )
    compared, looking_ahead = 0, 0
    for written, compiled in pairs:
        if not written:
            continue
        assert compiled is not None
        plain = re.compile("|".join(f"(?:{p})" for p in written))
        spans = [m.span() for m in plain.finditer(text)]
        assert [m.span() for m in compiled.finditer(text)] == spans, written[0]
        compared += len(spans)
        looking_ahead += compiled.pattern.startswith("(?=[")
    assert compared > 10_000
    assert looking_ahead >= 5  # the patterns that re could not skip ahead on
