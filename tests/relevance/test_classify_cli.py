"""`watcher classify` as a user runs it: files, JSON Lines, standard input, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_watcher, shared_path


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_plain_text_files_are_classified_with_their_path_as_id(tmp_path: Path) -> None:
    seeds = sorted(shared_path("seeds").glob("*.txt"))
    off = tmp_path / "weather.txt"
    off.write_text("The weather stayed mild in Berlin all week.\n", encoding="utf-8")
    result = run_watcher("classify", *map(str, seeds), str(off))
    assert result.returncode == 0, result.stderr
    out = _lines(result.stdout)
    assert [row["id"] for row in out] == [*map(str, seeds), str(off)]
    assert all(row["relevant"] for row in out[:5]), "every seed is on the beat"
    assert out[5]["relevant"] is False
    assert set(out[0]) == {"id", "relevant", "score", "labels", "evidence"}
    assert out[0]["evidence"]


def test_jsonl_with_a_malformed_line_reports_it_and_classifies_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    records = [
        {
            "id": 7,
            "title": "Treaty",
            "text": "Russia and North Korea signed a defence treaty "
            "in Pyongyang. Moscow pledged military aid to Pyongyang.",
            "lang": "en",
        },
        "this line is not JSON",
        {"id": "no-text"},
        {
            "id": "ko-1",
            "title": None,
            "text": "북한이 남북 통신선을 끊었다. 통일부는 대화를 촉구했다.",
        },
    ]
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records),
        encoding="utf-8",
    )
    result = run_watcher("classify", str(path))
    assert result.returncode == 1
    assert f"{path}:2: not JSON" in result.stderr
    assert f"{path}:3: needs a string" in result.stderr
    out = _lines(result.stdout)
    assert [row["id"] for row in out] == [7, "ko-1"]
    assert out[0]["labels"] == ["russia-nk"]
    assert out[1]["labels"] == ["inter-korean"]


def test_standard_input_as_text_and_as_jsonl() -> None:
    text = run_watcher(
        "classify", "-", stdin="Seoul and Moscow discussed trade and energy ties in Moscow."
    )
    assert text.returncode == 0, text.stderr
    assert _lines(text.stdout)[0]["id"] == "-"
    lines = run_watcher("classify", "--jsonl", "-", stdin='{"id": "a", "text": "Nothing here."}\n')
    assert lines.returncode == 0, lines.stderr
    assert _lines(lines.stdout) == [
        {"id": "a", "relevant": False, "score": 0.0, "labels": [], "evidence": []}
    ]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = run_watcher("classify", str(tmp_path / "absent.txt"))
    assert result.returncode == 1
    assert "absent.txt: cannot read" in result.stderr
