"""A pass over sources, stage by stage: each module one concern, each hands on one value.

orchestrator  Pipeline        the pass: sources concurrently, offline, the manifest
poller        FeedPoller      one feed: fetch, parse, admit new entries     -> Job
processor     EntryProcessor  one entry: page, analysis, settle        -> EntryOutcome
decider       look, decide    is it new, a copy, or archive? (pure)       -> Intent
filer         CorpusFiler     corpus numbers and files                    -> Filing
settings      PassSettings    the few settings a pass reads
"""

from __future__ import annotations

from watcher.pipeline.job import Job
from watcher.pipeline.orchestrator import MANUAL_SOURCE, Pipeline
from watcher.pipeline.processor import Progress
from watcher.pipeline.settings import PassSettings

__all__ = ["MANUAL_SOURCE", "Job", "PassSettings", "Pipeline", "Progress"]
