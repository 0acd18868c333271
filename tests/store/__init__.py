"""Tests of watcher.store: the database, full-text search, the corpus folder."""
