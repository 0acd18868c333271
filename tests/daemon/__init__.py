"""Tests of watcher.services and watcher.scale: the daemon, queue workers, logs, start-up."""
