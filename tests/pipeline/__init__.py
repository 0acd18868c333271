"""Tests of watcher.pipeline: whole passes of `watcher fetch`, and the dedup decision."""
