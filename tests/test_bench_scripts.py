"""The benchmark scripts' command lines: a wrong ``--shared`` is a usage error naming the
folder, before any set-up, not a traceback from the first file read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

_READERS = sorted(
    path
    for path in (ROOT / "bench").glob("*.py")
    if "[--shared" in path.read_text(encoding="utf-8")  # its usage line offers the option
)


def test_the_benchmarks_that_read_shared_materials_are_found() -> None:
    assert len(_READERS) >= 12, [path.name for path in _READERS]


@pytest.mark.parametrize("script", _READERS, ids=lambda path: path.name)
def test_a_missing_shared_folder_is_a_usage_error(script: Path, tmp_path: Path) -> None:
    empty = tmp_path / "shared"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, str(script), "--shared", str(empty)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert str(empty) in done.stderr
    assert "Traceback" not in done.stderr
