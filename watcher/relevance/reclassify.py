"""Re-score stored articles after the configuration or the model changed.

Verdicts are the classifier's and may change; the user's marks are not, and still win:
an article the user marked irrelevant is not filed, whatever the new verdict. A newly
relevant article gets its corpus file, as a pass would have given it; one that is no
longer relevant keeps its file (the corpus is the user's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.corpus import write_manifest
from watcher.relevance.classify import Classifier
from watcher.relevance.marks import file_item
from watcher.relevance.wording import kept_in
from watcher.store import ItemSummary, Store, VerdictUpdate

__all__ = ["Moved", "ReclassifyReport", "reclassify"]


@dataclass(frozen=True, slots=True)
class Moved:
    """An article whose verdict went the other way."""

    id: int
    title: str
    relevant: bool  # now


@dataclass(frozen=True, slots=True)
class ReclassifyReport:
    items: int
    changed: int  # relevant or labels differ from before
    now_relevant: int
    no_longer_relevant: int
    filed: tuple[str, ...]
    moved: tuple[Moved, ...] = ()  # relevant one way before, the other now


def reclassify(
    store: Store,
    corpus: Path,
    classifier: Classifier,
    now: datetime,
    *,
    file_all: bool = False,
    items: list[ItemSummary] | None = None,
) -> ReclassifyReport:
    """Every stored article, or ``items``."""
    items = store.stored_items() if items is None else items
    changed = now_relevant = no_longer = 0
    moved: list[Moved] = []
    verdicts: list[VerdictUpdate] = []
    to_file: list[ItemSummary] = []
    with kept_in(store):  # an article met before is not embedded again
        for item in items:
            verdict = classifier.classify(item.title, item.text, None)
            if (verdict.relevant, verdict.labels) != (item.relevant, item.labels):
                changed += 1
                if verdict.relevant != item.relevant:
                    moved.append(Moved(item.id, item.title or item.url or "", verdict.relevant))
                now_relevant += verdict.relevant and not item.relevant
                no_longer += item.relevant and not verdict.relevant
            verdicts.append(
                VerdictUpdate(
                    item.id,
                    verdict.relevant,
                    verdict.score,
                    verdict.labels,
                    verdict.evidence,
                    verdict.ties,
                )
            )
            wanted = (verdict.relevant or file_all) and item.user_mark != "irrelevant"
            if wanted and item.file is None:
                to_file.append(item)
    # The verdicts first, then the files: killed in between, an article is relevant
    # without its file, which the next reclassification gives it.
    store.update_verdicts(verdicts)
    filed = [file_item(store, corpus, item, now) for item in to_file]
    write_manifest(corpus, store.manifest_rows())
    return ReclassifyReport(
        len(items), changed, now_relevant, no_longer, tuple(filed), tuple(moved)
    )
