"""Wiring: the real parts put together for one pass. The CLI and the daemon call this.

The pass's parts (the pipeline, and trafilatura under it) are imported by ``fetch_pass``
itself: a command that only opens the store (``watcher items mark``) does not pay for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watcher.config import Config, SourceConfig
from watcher.corpus import sync_corpus
from watcher.dedup.neardup import NearDupRule
from watcher.relevance.classify import KeywordClassifier
from watcher.relevance.marks import examples
from watcher.store import Store
from watcher.store.db import open_engine

if TYPE_CHECKING:
    from watcher.pipeline import Progress
    from watcher.relevance.marks import MarkResult
    from watcher.relevance.reclassify import ReclassifyReport
    from watcher.report import PassReport

__all__ = ["RESCORED", "fetch_pass", "make_classifier", "mark", "open_store"]

RESCORED = 300  # after a mark, the newest unmarked articles scored again with what it taught


def open_store(config: Config) -> Store:
    """The database at head, its near-duplicate index keyed under the configured rule,
    and the corpus folder reconciled with it."""
    store = Store(open_engine(config.storage.database_url), NearDupRule.of(config.dedup))
    store.ensure_near_index()
    sync_corpus(store, config.storage.corpus_dir, datetime.now(UTC))
    return store


async def fetch_pass(
    config: Config,
    sources: Sequence[SourceConfig],
    urls: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    on_wait: Callable[[], None] | None = None,
) -> PassReport:
    """One pass, from opening the database to the manifest written.

    The worker pool starts first, so its processes warm up while the database is
    migrated and the corpus folder scanned. The pass holds the corpus folder's lock
    (``on_wait`` is called if another pass has it). Raises StoreError if the database
    is unusable.
    """
    from watcher.fetch.http import Fetcher
    from watcher.pipeline import PassSettings, Pipeline
    from watcher.services.lock import pass_lock
    from watcher.services.workers import WorkerPool

    started = time.perf_counter()
    pool = WorkerPool(workers)
    try:
        async with pass_lock(config.storage.corpus_dir, on_wait):
            store = open_store(config)
            try:
                async with Fetcher(config.http) as fetcher:
                    classifier = make_classifier(config, store)
                    pipeline = Pipeline(
                        PassSettings.of(config),
                        store,
                        fetcher,
                        pool,
                        classifier,
                        progress=progress,
                        settle_lock=store.settle_lock(),
                    )
                    pipeline.times.add("start-up", time.perf_counter() - started)
                    return await pipeline.run(sources, urls)
            finally:
                store.close()
    finally:
        pool.close()


def make_classifier(config: Config, store: Store) -> KeywordClassifier:
    """The configured classifier, taught by the user's marks as they are now: the model
    refitted with them, and their pull on similar articles. What the pipeline uses."""
    from watcher.relevance.teach import taught_model

    lexicon = config.lexicon()
    return KeywordClassifier(
        config.classify.threshold,
        model=taught_model(store, lexicon, datetime.now(UTC)),
        examples=examples(store),
        lexicon=lexicon,
    )


def mark(
    config: Config, store: Store, id_or_url: str, verdict: str, labels: Sequence[str], now: datetime
) -> tuple[MarkResult, ReclassifyReport]:
    """The user's mark, from the command line or the review page alike: recorded, the
    article filed or kept, the model refitted; then the newest unmarked articles are
    scored again with what it taught (those that turn relevant are filed, as a pass
    would). Raises LookupError (unknown item) and ValueError (bad mark or label)."""
    from watcher.relevance.marks import mark_item
    from watcher.relevance.reclassify import reclassify

    lexicon = config.lexicon()
    corpus = config.storage.corpus_dir
    # The rescoring below writes the manifest, the mark's line included: once is enough.
    result = mark_item(store, corpus, id_or_url, verdict, labels, now, lexicon, manifest=False)
    others = [item for item in store.recent_unmarked(RESCORED) if item.id != result.item.id]
    report = reclassify(
        store,
        corpus,
        make_classifier(config, store),
        now,
        file_all=config.storage.file_all,
        items=others,
    )
    return result, report
