"""The shared materials the benchmarks read: ``../shared`` beside the checkout, or
wherever ``--shared`` points."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_shared_option", "shared_folder"]

DEFAULT = Path(__file__).resolve().parents[2] / "shared"


def add_shared_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT, help=f"the shared materials (default {DEFAULT})"
    )


def shared_folder(parser: argparse.ArgumentParser, shared: Path, relative: str) -> Path:
    """``shared / relative``, or a usage error (exit 2) naming it: a benchmark pointed at
    the wrong folder says so before it starts, not with a traceback from its first read
    (some only read after minutes of set-up)."""
    folder = shared / relative
    if not folder.is_dir():
        parser.error(f"{folder} is not there (--shared names the shared folder)")
    return folder
