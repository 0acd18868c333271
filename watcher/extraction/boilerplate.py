"""What trafilatura keeps of an old table-layout page's furniture, taken out.

Sites built before CSS layout put the menu, the sidebar and the article side by side in
the cells of one table. trafilatura reads such a table as data and keeps its rows:
empty ones ("| | |"), menu ones ("| Advanced Search | | |") and whole sidebars ("A
daily guide to ...", a list of other headlines). Two cuts, one before extraction and
one after:

- a layout cell (one that holds paragraphs or other tables) whose words are mostly link
  text and which has no paragraph of its own is a menu or a sidebar: it is removed from
  the tree before trafilatura sees it;
- a table row left in the text with no cell of prose (empty cells, or short ones that
  together make under ``_MENU_WORDS`` words) is dropped.

A data table in an article (figures by year, say) has rows of two or more short cells,
which are kept.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

__all__ = ["drop_residue", "prune_layout_cells"]

_LINK_SHARE = 0.4  # a layout cell with this share of its words in links is navigation
_OWN_PARAGRAPH_WORDS = 40  # a paragraph this long is content, whatever surrounds it
_MENU_WORDS = 8  # a single-cell table row shorter than this is a menu entry
_CELL_SPLIT = re.compile(r"\s*\|\s*")


def prune_layout_cells(tree: HtmlElement | None) -> HtmlElement | None:
    """Remove link-dominated layout cells (menus, sidebars) from the tree, in place."""
    if tree is None:
        return None
    for cell in tree.xpath("//td[.//p or .//div or .//table or .//br]"):
        if cell.getparent() is None:  # inside a cell removed already
            continue
        words = _words(cell)
        if words == 0:
            continue
        linked = sum(_words(link) for link in cell.iter("a"))
        if linked / words >= _LINK_SHARE and not any(
            _words(paragraph) > _OWN_PARAGRAPH_WORDS for paragraph in cell.iter("p")
        ):
            cell.drop_tree()
    return tree


def drop_residue(text: str) -> str:
    """The text without table rows that hold no prose."""
    return "\n".join(line for line in text.splitlines() if not _empty_row(line))


def _empty_row(line: str) -> bool:
    stripped = line.strip()
    if not stripped.startswith("|"):
        return False
    cells = [cell for cell in _CELL_SPLIT.split(stripped.strip("|")) if cell]
    if not cells:
        return True
    return len(cells) == 1 and len(cells[0].split()) < _MENU_WORDS


def _words(element: HtmlElement) -> int:
    return len(element.text_content().split())
