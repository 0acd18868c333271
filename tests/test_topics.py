"""Topics are configuration: a user adds a tie, or replaces a default, without code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_watcher
from watcher.classify import TIES, KeywordClassifier
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.lexicon import build_lexicon, default_lexicon

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
    assert topic.terms.pattern == "(?:\\bzzyzx\\b)"


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
        ('[[topics]]\nname = "x"\nparties = ["north"]\n', "topics.0.parties"),
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
