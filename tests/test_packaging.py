"""What a wheel of watcher carries: every data file the code reads at run time."""

from __future__ import annotations

import fnmatch
import tomllib

from tests.conftest import ROOT


def test_every_data_file_is_packaged() -> None:
    """A file missing from package-data works in a checkout and fails in the container
    (which installs a wheel): topics.toml once was."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["watcher"]
    package = ROOT / "watcher"
    data_files = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert "data/topics.toml" in data_files
    missing = [name for name in data_files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert missing == []
