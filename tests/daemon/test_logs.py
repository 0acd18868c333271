"""Logs: JSON lines with their fields off a terminal, and always to the current stderr."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from watcher.services.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_event_and_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(logging.INFO, json_lines=True)
    logging.getLogger("watcher.test").warning(
        "entry_failed", extra={"source": "S", "kind": "timeout"}
    )
    line = json.loads(stream.getvalue())
    assert (line["event"], line["level"], line["source"], line["kind"]) == (
        "entry_failed",
        "warning",
        "S",
        "timeout",
    )


def test_logs_follow_stderr_when_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress bar replaces sys.stderr while it is live; logs must go there."""
    configure_logging(logging.INFO, json_lines=False)
    replaced = io.StringIO()
    monkeypatch.setattr(sys, "stderr", replaced)
    logging.getLogger("watcher.test").warning("corpus_write_failed", extra={"file": "005_x.txt"})
    assert replaced.getvalue().strip() == "warning corpus_write_failed file=005_x.txt"
