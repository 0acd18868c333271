"""watcher: follows inter-Korean and Russia-Korea analysis on the open web into a corpus."""

__version__ = "0.1.0"
