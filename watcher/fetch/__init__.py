"""Fetching: the HTTP client every request goes through, and robots.txt."""
