"""Tests of watcher.sources: feeds, sitemaps, listings, OPML, discovery, poll planning."""
