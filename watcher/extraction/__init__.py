"""Extraction: a page's article text, title, dates and authors (HTML or PDF)."""
