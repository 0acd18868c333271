"""The worker pool: values shared by reference, and a worker that dies mid-call."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import threading
from pathlib import Path

import pytest

from watcher.services import workers
from watcher.services.workers import PRELOAD, Shared, WorkerCrashed, WorkerPool


def _read(shared: Shared[dict[str, int]]) -> tuple[int, int]:
    """The value, and the pid of the worker that read it."""
    return shared.get()["answer"], os.getpid()


def _die() -> None:
    os._exit(3)  # a worker killed mid-call (out of memory, say)


def _loaded(name: str) -> bool:
    return name in sys.modules


def _square(x: int) -> int:
    return x * x


def test_shared_value_reaches_every_worker_from_one_file() -> None:
    pool = WorkerPool(2)
    try:
        shared = pool.share({"answer": 42})
        again = pool.share({"answer": 42})
        assert again == shared, "the same value is written once"
        assert len(list(Path(shared.path).parent.iterdir())) == 1

        async def go() -> list[tuple[int, int]]:
            return await asyncio.gather(*(pool.run(_read, shared) for _ in range(8)))

        results = asyncio.run(go())
        assert {answer for answer, _pid in results} == {42}
        assert os.getpid() not in {pid for _answer, pid in results}, "read in the workers"
    finally:
        pool.close()
    assert not Path(shared.path).exists(), "the files go with the pool"


def test_a_dead_worker_fails_its_call_and_the_pool_recovers() -> None:
    pool = WorkerPool(2)
    try:
        with pytest.raises(WorkerCrashed):
            asyncio.run(pool.run(_die))
        assert asyncio.run(pool.run(_square, 7)) == 49
    finally:
        pool.close()


def test_forkserver_workers_start_with_the_analysis_stages_imported() -> None:
    """With a thread running, the pool forks from a forkserver, which imports PRELOAD
    once: a module renamed without updating it would leave every worker cold."""
    assert [importlib.import_module(name).__name__ for name in PRELOAD] == list(PRELOAD)
    release = threading.Event()
    busy = threading.Thread(target=release.wait)
    busy.start()  # a thread running: fork is unsafe, so the pool uses a forkserver
    try:
        pool = WorkerPool(1)
    finally:
        release.set()
        busy.join()
    try:
        assert all(asyncio.run(pool.run(_loaded, name)) for name in PRELOAD)
    finally:
        pool.close()


def _niceness() -> int:
    return os.nice(0)


def test_workers_run_below_the_process_that_feeds_them() -> None:
    """The coordinator fetches, settles and files every article: a worker must not
    take its core (on two cores, two busy workers would otherwise starve it)."""
    pool = WorkerPool(1)
    try:
        theirs = asyncio.run(pool.run(_niceness))
    finally:
        pool.close()
    assert theirs >= min(os.nice(0) + 10, 19)


def test_a_worker_s_start_up_task_runs_each_stage_s_warm_up_and_survives_a_failing_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What the pool submits to each new worker (``_warm``) runs ``warm_up`` of every
    PRELOAD module (a stand-in records it); one that fails is logged, not raised."""
    from tests.daemon import _warming

    monkeypatch.setattr(workers, "PRELOAD", ("tests.daemon._warming",))
    monkeypatch.setattr(_warming, "WARMED", [])
    workers._warm()
    assert _warming.WARMED == ["warmed"]

    monkeypatch.setattr(_warming, "FAIL", [True])
    with caplog.at_level("WARNING", logger="watcher.services.workers"):
        workers._warm()
    [record] = [r for r in caplog.records if r.getMessage() == "worker_warm_up_failed"]
    assert record.stage == "tests.daemon._warming"  # type: ignore[attr-defined]
    assert "the stand-in's warm-up failed" in record.error  # type: ignore[attr-defined]


def test_a_new_worker_warms_every_stage_on_a_page_of_its_own() -> None:
    """The warm-up page goes through extraction (title, author, date), the classifier
    and the fingerprints: a change that made it fail would leave workers cold, silently."""
    from watcher.analyse import warm_up

    article = warm_up()

    assert article.title == "Talks resume"
    assert article.authors == ("Jane Roe",)
    assert article.published is not None
    assert article.published.year == 2026
    assert "liaison office" in article.text


def test_the_warm_up_leaves_the_wording_s_encoder_for_the_first_unsure_article(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its page is classified without the wording, even where the forest is unsure of
    it: the encoder (0.14 s and 125 MB a worker) waits for an article that needs it."""
    from watcher.analyse import warm_up
    from watcher.relevance import wording
    from watcher.relevance.classify import KeywordClassifier

    monkeypatch.setattr(wording, "_encoder", None)
    # Unsure of every score, whatever the shipped forest makes of the warm-up page.
    monkeypatch.setattr(wording, "UNSURE", 0.5)
    article = warm_up()
    assert wording._encoder is None

    verdict = KeywordClassifier().classify(article.title, article.text, article.language)
    assert any("its wording scores" in line for line in verdict.evidence)  # the page is unsure
    assert wording._encoder is not None
