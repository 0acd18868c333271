"""Tests of watcher.fetch: the HTTP client, robots.txt, hostile servers."""
