"""The committed table of what watcher's feed stage makes of every feed in ../shared/feeds.

    python -m tests.feed_table          # print the table
    python -m tests.feed_table --write  # regenerate tests/data/feeds_expected.tsv

A change in parsing shows as a diff in this table, reviewed like code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import SHARED
from watcher.sources.feeds import parse_feed

TABLE = Path(__file__).parent / "data" / "feeds_expected.tsv"
COLUMNS = ("path", "version", "entries", "ill_formed", "skipped", "first_key", "first_link")


def feed_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "opml" not in path.parts and path.name not in ("SOURCES.tsv",):
            yield path


def row(path: Path, root: Path) -> tuple[str, ...]:
    relative = path.relative_to(root).as_posix()
    parsed = parse_feed(path.read_bytes(), url=f"http://feeds.example/{relative}")
    first = parsed.entries[0] if parsed.entries else None
    return (
        relative,
        parsed.version or "-",
        str(len(parsed.entries)),
        "yes" if parsed.ill_formed else "no",
        str(len(parsed.skipped)),
        _cell(first.key if first else "-"),
        _cell(first.link if first else "-"),
    )


def _cell(value: str) -> str:
    return " ".join(value.split())[:300] or "-"


def table(root: Path) -> list[tuple[str, ...]]:
    return [row(path, root) for path in feed_files(root)]


def render(rows: list[tuple[str, ...]]) -> str:
    return "\n".join("\t".join(r) for r in [COLUMNS, *rows]) + "\n"


def read_expected() -> dict[str, tuple[str, ...]]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()[1:]
    return {line.split("\t")[0]: tuple(line.split("\t")) for line in lines}


if __name__ == "__main__":
    text = render(table(SHARED / "feeds"))
    if "--write" in sys.argv:
        TABLE.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
