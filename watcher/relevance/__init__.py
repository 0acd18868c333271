"""Relevance: the classifier, its lexicon and model, and what the user's marks teach it."""
