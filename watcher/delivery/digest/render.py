"""A digest as one multipart email: a plain-text part and an HTML part, same content.

HTML for a phone: one column no wider than 640 px, inline CSS only (mail clients drop
style sheets), no images, no scripts, nothing fetched when the message is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from watcher.delivery.digest.content import Digest, DigestArticle, tie_title
from watcher.delivery.templating import html_environment, render_subject, text_environment

__all__ = ["Rendered", "compose", "render"]


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(digest: Digest, subject_template: str) -> Rendered:
    zone = ZoneInfo(digest.timezone)
    made = digest.made.astimezone(zone)
    values = {
        "digest": digest,
        "made": f"{made:%A} {_day(made.date())}",
        "since": _moment(digest.since.astimezone(zone)),
        "headline": headline(digest),
        "meta": _meta,
        "day": _day,
        "size": _size,
    }
    subject = render_subject(
        subject_template,
        date=_day(made.date()),
        count=digest.count,
        near_misses=len(digest.near_misses),
        summary=digest.summary,
    )
    text = text_environment().get_template("digest.txt.j2").render(**values, subject=subject)
    html = html_environment().get_template("digest.html.j2").render(**values, subject=subject)
    return Rendered(subject, text, html)


def compose(rendered: Rendered, *, sender: str, recipient: str, now: datetime) -> EmailMessage:
    """The message as sent: its Message-ID is recorded with the digest."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("digest", domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def headline(digest: Digest) -> str:
    """The header line: "7 new articles: 4 Inter-Korean, 3 Russia-North Korea · ..."."""
    count = digest.count
    parts = [f"{count} new article{'s' if count != 1 else ''}: {digest.summary}"]
    misses = len(digest.near_misses)
    if misses:
        parts.append(f"{misses} near miss{'es' if misses != 1 else ''}")
    if digest.sources:
        noun = "source needs" if len(digest.sources) == 1 else "sources need"
        parts.append(f"{len(digest.sources)} {noun} attention")
    return " \N{MIDDLE DOT} ".join(parts)


def _meta(article: DigestArticle) -> str:
    parts = [article.source] if article.source else []
    if article.authors:
        more = " et al." if len(article.authors) > 4 else ""
        parts.append(", ".join(article.authors[:4]) + more)
    if article.day:
        parts.append(_day(article.day))
    if article.labels:
        parts.append(", ".join(tie_title(t) for t in article.labels))
    return " \N{MIDDLE DOT} ".join(parts)


def _moment(moment: datetime) -> str:
    return f"{_day(moment.date())} {moment:%H:%M}"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
