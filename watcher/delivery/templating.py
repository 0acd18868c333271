"""Jinja2 environments for the digest: HTML escapes everything, text escapes nothing.

Everything a feed or a page supplied is untrusted. The HTML environment autoescapes
every value, and links go through ``safe_href``, so a title holding ``<script>`` or a
``javascript:`` link arrives as text. Undefined names are errors, not blanks: a
template that names a missing value fails in the tests, not in a reader's inbox.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["html_environment", "render_subject", "safe_href", "text_environment"]

_TEMPLATES = Path(__file__).parent.parent / "templates"


def safe_href(url: str | None) -> str | None:
    """The URL if a mail client may link it (http or https), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


@cache
def html_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["href"] = safe_href
    return env


@cache
def text_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["href"] = safe_href
    return env


def render_subject(template: str, **values: Any) -> str:
    """The subject line: one line, whatever the template or the values held."""
    rendered = _subject_environment().from_string(template).render(**values)
    return " ".join(rendered.split())


@cache
def _subject_environment() -> Environment:
    return Environment(autoescape=False, undefined=StrictUndefined)
