"""PDF reports -> text: think tanks often publish their analysis as PDF only.

pypdf reads the text layer (pure Python: nothing to install beside it). A page's lines
are joined back into paragraphs: a line that does not end a sentence runs on into the
next, a blank line or a sentence end followed by a short line closes a paragraph.
A scanned PDF (no text layer) yields no text, and is reported so by the caller.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PageObject

__all__ = ["MAX_PAGES", "PdfError", "PdfText", "read_pdf"]

MAX_PAGES = 200  # a longer document is a book; its first 200 pages say what it is
_SENTENCE_END = re.compile('[.!?:;"\u201d\u2019)\\]]$')  # closing quotes too
_HYPHENATED = re.compile(r"[a-zà-ÿ]-$")
_PARAGRAPH_GAP = 1.8  # a step down this many font heights is more than a line's leading

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are about the file


class PdfError(ValueError):
    """The bytes are no readable PDF (damaged, or encrypted with a password)."""


@dataclass(frozen=True, slots=True)
class PdfText:
    title: str | None
    text: str  # one paragraph per line
    authors: tuple[str, ...]
    published: datetime | None
    pages: int


def read_pdf(body: bytes) -> PdfText:
    # Imported here: few articles are PDFs, and every worker process would carry it
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfError("the PDF is encrypted")
        lines: list[str] = []
        for page in reader.pages[:MAX_PAGES]:
            lines += _page_text(page).splitlines()
            lines.append("")  # a page break ends a paragraph
        metadata = reader.metadata
    except PyPdfError as exc:
        raise PdfError(f"unreadable PDF: {exc}") from exc
    title = _clean(metadata.title) if metadata else None
    author = _clean(metadata.author) if metadata else None
    created = metadata.creation_date if metadata else None
    return PdfText(
        title=title,
        text="\n".join(paragraphs(lines)),
        authors=(author,) if author else (),
        published=created.astimezone(UTC) if created and created.tzinfo else None,
        pages=len(reader.pages),
    )


def _page_text(page: PageObject) -> str:
    """The page's text in reading order, with a blank line wherever the next line sits
    further below than a line's height allows: the space between paragraphs."""
    parts: list[str] = []
    last_y: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text.strip():
            if "\n" in text:
                parts.append("\n")
            return
        y = tm[5] * cm[3] + cm[5]
        height = abs(size * tm[3] * cm[3]) or size or 1.0
        if last_y and last_y[0] - y > _PARAGRAPH_GAP * height:
            parts.append("\n\n")
        parts.append(text)
        last_y[:] = [y]

    page.extract_text(visitor_text=visit)
    return "".join(parts)


def paragraphs(lines: list[str]) -> list[str]:
    """Visual lines back into paragraphs."""
    found: list[str] = []
    current = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            if current:
                found.append(current)
            current = ""
            continue
        if _HYPHENATED.search(current):
            # "co-" + "operation" was one word broken at the line's end; "inter-" +
            # "Korean" keeps its hyphen
            current = (current[:-1] if line[:1].islower() else current) + line
        else:
            current = f"{current} {line}".strip()
        if _SENTENCE_END.search(line) and len(line) < 60:
            found.append(current)  # a short last line: the paragraph ends here
            current = ""
    if current:
        found.append(current)
    return found


def _clean(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None
