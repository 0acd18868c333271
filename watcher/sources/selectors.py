"""CSS selectors of listing sources, as XPath: cssselect alone, so that the configuration
can check a selector without importing the listing stage (lxml, the extractor)."""

from __future__ import annotations

from cssselect import GenericTranslator, SelectorError

__all__ = ["css_to_xpath"]


def css_to_xpath(selector: str) -> str:
    """The selector as XPath; ValueError if it is not CSS (a configuration error)."""
    try:
        return str(GenericTranslator().css_to_xpath(selector))
    except SelectorError as exc:
        raise ValueError(str(exc)) from None
