"""Dedup: the URLs an article is known by, and near-duplicate texts."""
