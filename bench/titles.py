"""Titles chosen by watcher against the publishers' own, on fundus's real pages.

    python bench/titles.py [--shared ../shared] [--misses]

For each page of ``pages/fundus/test_data`` whose expected JSON gives a title, the page
is extracted as a pass would with no feed title (the harder case: the page alone must
give the headline), and the title compared, case and spacing folded, with the expected
one. Printed: exact matches of watcher's choice and of trafilatura's own title, and how
many of each still carry a site name the <title> had. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from _shared import add_shared_option, shared_folder
from trafilatura import bare_extraction

from watcher.extraction.page import Article, decode_html, extract_page


def _fold(text: str | None) -> str:
    return " ".join((text or "").casefold().replace("\u00a0", " ").split())


def _cases(shared: Path) -> list[tuple[Path, str, str]]:
    root = shared / "pages" / "fundus"
    rows = (root / "VERSION_MAP.derived.tsv").read_text(encoding="utf-8").splitlines()
    cases = []
    for row in rows:
        fields = row.split("\t")
        if row.startswith("#") or fields[0] == "country" or len(fields) < 5:
            continue
        country, publisher, html_file, key, url = fields[:5]
        expected = json.loads((root / "test_data" / country / f"{publisher}.json").read_text())
        title = (expected.get(key) or {}).get("title")
        if title:
            cases.append((root / "test_data" / country / html_file, url, title))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_option(parser)
    parser.add_argument("--misses", action="store_true", help="list watcher's misses")
    args = parser.parse_args()
    cases = _cases(shared_folder(parser, args.shared, "pages/fundus"))
    ours = theirs = 0
    for path, url, expected in cases:
        body = gzip.decompress(path.read_bytes())
        article = extract_page(body, None, url)
        chosen = article.title if isinstance(article, Article) else None
        doc = bare_extraction(decode_html(body, None), url=url, with_metadata=True)
        plain = getattr(doc, "title", None)
        ours += _fold(chosen) == _fold(expected)
        theirs += _fold(plain) == _fold(expected)
        if args.misses and _fold(chosen) != _fold(expected):
            print(f"  {path.name}: {chosen!r}\n    expected {expected!r}")
    total = len(cases)
    print(f"pages with a title: {total}")
    print(f"watcher's title:     {ours} exact ({ours / total:.1%})")
    print(f"trafilatura's title: {theirs} exact ({theirs / total:.1%})")


if __name__ == "__main__":
    main()
