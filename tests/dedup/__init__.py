"""Tests of watcher.dedup: URL forms, near-duplicates, partial copies, end to end."""
