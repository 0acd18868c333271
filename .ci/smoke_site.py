"""Build a local site for the quickstart smoke test: real pages on the beat behind a
feed, a copy of the seeds as the corpus, and a configuration pointing at them.

    python3 .ci/smoke_site.py SHARED_DIR OUT_DIR

Standard library only: it runs before watcher is installed.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import sys
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape


def main(shared: Path, out: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    site = out / "site"
    (site / "p").mkdir(parents=True)
    folder = shared / "pages" / "korea-related"
    items = []
    for number, row in enumerate(
        (folder / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    ):
        local = folder / row.split("\t")[0]
        if not local.is_file():
            continue
        body = local.read_bytes()
        if local.suffix == ".gz":
            body = gzip.decompress(body)
        (site / "p" / f"{number:03d}.html").write_bytes(body)
        link = f"{base}/p/{number:03d}.html"
        items.append(
            f"<item><title>{number}</title><link>{escape(link)}</link>"
            f"<guid>{number}</guid><pubDate>{formatdate(usegmt=True)}</pubDate></item>"
        )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>smoke</title>{''.join(items)}</channel></rss>"
    )
    (site / "feed.xml").write_text(feed, encoding="utf-8")
    shutil.copytree(shared / "seeds", out / "corpus")
    (out / "watcher.toml").write_text(
        "[storage]\n"
        f'database_url = "sqlite:///{out}/data/watcher.db"\n'
        f'corpus_dir = "{out}/corpus"\n'
        '[http]\nallowed_networks = ["127.0.0.0/8"]\nper_host_delay = 0\n'
        "[[sources]]\n"
        'name = "Local beat"\n'
        f'url = "{base}/feed.xml"\n',
        encoding="utf-8",
    )
    (out / "port").write_text(str(port))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
