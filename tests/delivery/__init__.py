"""Tests of watcher.delivery: the digest, its mail and its rendering."""
