"""Inputs and outputs of `watcher classify`: texts in, one JSON line per verdict out.

A plain-text file is one input whose id is its path; a JSON Lines file (a path ending
in .jsonl, or standard input with --jsonl) holds one object per line with ``id``,
``title``, ``text`` and optionally ``lang``. A line that cannot be read becomes an
``InputError`` naming the file and line, and the lines after it are still read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from watcher.relevance.classify import Verdict

__all__ = ["InputError", "TextInput", "read_inputs", "verdict_json"]


@dataclass(frozen=True, slots=True)
class TextInput:
    id: str | int | float  # as given: a path, or the JSON line's own id
    title: str | None
    text: str
    language: str | None


@dataclass(frozen=True, slots=True)
class InputError:
    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"


def read_inputs(source: str, *, jsonl: bool) -> Iterator[TextInput | InputError]:
    if source == "-":
        data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        if jsonl:
            yield from _jsonl(data, "<stdin>")
        else:
            yield TextInput("-", None, data, None)
        return
    path = Path(source)
    try:
        data = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        yield InputError(source, None, f"cannot read: {exc.strerror}")
        return
    if path.suffix == ".jsonl":
        yield from _jsonl(data, source)
    else:
        yield TextInput(source, None, data, None)


def _jsonl(data: str, source: str) -> Iterator[TextInput | InputError]:
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(source, number, f"not JSON: {exc.msg}")
            continue
        problem = _problem(record)
        if problem:
            yield InputError(source, number, problem)
            continue
        yield TextInput(record["id"], record.get("title"), record["text"], record.get("lang"))


def _problem(record: object) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    if not isinstance(record.get("id"), str | int | float) or isinstance(record["id"], bool):
        return 'needs an "id" (a string or a number)'
    if not isinstance(record.get("text"), str):
        return 'needs a string "text"'
    if record.get("title") is not None and not isinstance(record["title"], str):
        return '"title" must be a string'
    return None


def verdict_json(item_id: str | int | float, verdict: Verdict) -> str:
    return json.dumps(
        {
            "id": item_id,
            "relevant": verdict.relevant,
            "score": verdict.score,
            "labels": list(verdict.labels),
            "evidence": list(verdict.evidence),
        },
        ensure_ascii=False,
    )
