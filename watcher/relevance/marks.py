"""The user's judgements: record a mark and do what it means for the corpus.

Marking an unfiled article relevant files it; marking a filed one irrelevant keeps its
file (the corpus is the user's) and records the mark in the manifest. Marks are never
overwritten by the classifier: they are stored apart from its verdicts, and they teach
it twice: every mark refits the model (``watcher.relevance.teach``), and an article close
to a marked one follows the mark (``examples``, through similarity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.corpus import highest_number, render, write_exclusive, write_manifest
from watcher.relevance.classify import Example
from watcher.relevance.lexicon import Lexicon, default_lexicon
from watcher.relevance.similarity import vector
from watcher.relevance.teach import refit
from watcher.store import ItemSummary, Store

__all__ = ["MARKS", "MarkResult", "examples", "file_item", "mark_item"]

MARKS = ("relevant", "irrelevant")


@dataclass(frozen=True, slots=True)
class MarkResult:
    item: ItemSummary
    filed: str | None  # the file written because of this mark
    model_version: int


def mark_item(
    store: Store,
    corpus: Path,
    id_or_url: str,
    mark: str,
    labels: Sequence[str],
    now: datetime,
    lexicon: Lexicon | None = None,
    *,
    manifest: bool = True,
) -> MarkResult:
    """Record the mark, file or keep the article, and refit the model with it (read
    with ``lexicon``, the configured one), and write the manifest unless the caller
    writes it next (``manifest``: a whole rewrite, 0.6 s with 20,000 files). Raises
    LookupError for an unknown item and ValueError for a bad mark or label."""
    lexicon = lexicon or default_lexicon()
    ties = lexicon.names
    if mark not in MARKS:
        raise ValueError(f"a mark is one of {', '.join(MARKS)}, not {mark!r}")
    unknown = [label for label in labels if label not in ties]
    if unknown:
        raise ValueError(f"unknown label {unknown[0]!r}; labels are {', '.join(ties)}")
    item = store.find_item(id_or_url)
    if item is None:
        raise LookupError(f"no item is known by {id_or_url!r}")
    version = store.add_mark(item.id, mark, labels, now)
    refit(store, lexicon, version, now)
    filed = None
    if mark == "relevant" and item.file is None:
        filed = file_item(store, corpus, item, now)
    if manifest:
        write_manifest(corpus, store.manifest_rows())
    return MarkResult(store.find_item(str(item.id)) or item, filed, version)


def file_item(store: Store, corpus: Path, item: ItemSummary, now: datetime) -> str:
    """Give a stored article its corpus file now (next number, exclusive create)."""
    while True:
        floor = max(highest_number(corpus), store.highest_file_number())
        _number, name = store.allocate_file(item.id, item.key, floor=floor)
        try:
            write_exclusive(corpus, name, render(item.title, item.text))
        except FileExistsError:
            continue
        store.mark_filed([item.id], now)
        return name


def examples(store: Store) -> list[Example]:
    """The marked articles, as the classifier learns from them."""
    return [
        Example(title, vector(f"{title}\n{text}"), mark == "relevant", labels)
        for title, text, mark, labels in store.marked_examples()
    ]
