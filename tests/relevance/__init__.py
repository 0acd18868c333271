"""Tests of watcher.relevance: the classifier, its lexicon and topics, the user's marks."""
