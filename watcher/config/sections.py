"""The configuration's sections, each validated on its own.

Unknown keys are errors (``_Strict``): a misspelt key that is silently ignored is a
setting the user believes in and does not have.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Strict):
    database_url: str = "sqlite:///data/watcher.db"
    corpus_dir: Path = Path("corpus")
    file_all: bool = False


class HttpConfig(_Strict):
    user_agent: str = "watcher/1.0 (+https://example.org/contact)"
    timeout: Annotated[float, Field(gt=0)] = 20.0
    max_bytes: Annotated[int, Field(gt=0)] = 10_000_000
    deadline: Annotated[float, Field(gt=0)] = 60.0
    allowed_networks: list[str] = []
    per_host_delay: Annotated[float, Field(ge=0)] = 2.0
    max_redirects: Annotated[int, Field(ge=0, le=30)] = 10
    concurrency: Annotated[int, Field(ge=1, le=256)] = 128
    respect_robots: bool = True  # robots.txt rules for article pages (watcher.fetch.robots)

    @field_validator("allowed_networks")
    @classmethod
    def _networks_parse(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)  # raises ValueError, named by pydantic
        return value


class ClassifyConfig(_Strict):
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.5


class ScheduleConfig(_Strict):
    """How the daemon paces its polls (watcher.sources.planning says how they are used)."""

    shortest_minutes: Annotated[int, Field(ge=1)] = 15
    longest_minutes: Annotated[int, Field(ge=1)] = 1440
    max_backoff_hours: Annotated[float, Field(gt=0)] = 24.0
    check_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0  # how often due sources are sought
    stale_after_polls: Annotated[int, Field(ge=1)] = 20  # answering, yet nothing new this often

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleConfig:
        if self.shortest_minutes > self.longest_minutes:
            raise ValueError("shortest_minutes is longer than longest_minutes")
        return self


class DaemonConfig(_Strict):
    """``watcher run``'s service settings."""

    listen: str = ""  # "host:port" for /healthz and /metrics; empty: off

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        if value:
            _host, colon, port = value.rpartition(":")
            if not colon or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("expected host:port, such as 127.0.0.1:9464")
        return value


class WebConfig(_Strict):
    """The review page (watcher.web). ``base_url`` is where its readers open it (say
    https://watcher.example.org): set, the digest links every article to its page."""

    base_url: str = ""

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(
                "expected an http:// or https:// address, such as https://watcher.example.org"
            )
        return value


class QueueConfig(_Strict):
    """``watcher scheduler`` and ``watcher worker``: the scaled-out deployment."""

    concurrency: Annotated[int, Field(ge=1, le=1000)] = 32  # jobs at once per worker
    processes: Annotated[int, Field(ge=0, le=256)] | None = None  # per worker; None: CPUs
    heartbeat_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    stalled_seconds: Annotated[float, Field(gt=0, le=86400)] = 60.0  # no beat: job moves

    @model_validator(mode="after")
    def _beats_before_stalling(self) -> QueueConfig:
        if self.stalled_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError("stalled_seconds must be more than twice heartbeat_seconds")
        return self


class DedupConfig(_Strict):
    """Near-duplicate detection (watcher.dedup.neardup says what each number means)."""

    shingle_words: Annotated[int, Field(ge=1, le=20)] = 5
    bands: Annotated[int, Field(ge=1, le=64)] = 21
    rows: Annotated[int, Field(ge=1, le=16)] = 3
    min_containment: Annotated[float, Field(gt=0, le=1)] = 0.8
    min_coverage: Annotated[float, Field(gt=0, le=1)] = 0.7


DEFAULT_SUBJECT = "watcher, {{ date }}: {{ summary }}"


class DigestConfig(_Strict):
    """The daily email (watcher.delivery.digest). ``subject`` is a Jinja2 template over ``date``,
    ``count``, ``near_misses`` and ``summary`` (such as "3 inter-Korean, 1 Russia-North
    Korea", or "nothing new")."""

    recipients: list[str] = []
    sender: str = "watcher@localhost"
    subject: Annotated[str, Field(min_length=1)] = DEFAULT_SUBJECT
    send_at: time = time(7, 0)
    timezone: str = "UTC"
    min_score: Annotated[float, Field(ge=0, le=1)] | None = None  # None: classify.threshold
    max_per_tie: Annotated[int, Field(ge=1)] = 10  # in full; the rest as one line each
    near_misses: Annotated[int, Field(ge=0)] = 5
    send_empty: bool = False  # an empty day: a one-line "nothing new", or nothing at all
    first_days: Annotated[float, Field(gt=0)] = 1.0  # how far back a first digest reaches

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in [*value]:
            _check_address(address)
        if len(set(value)) != len(value):
            raise ValueError("a recipient is listed twice")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        _check_address(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as Asia/Seoul") from None
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if value == DEFAULT_SUBJECT:
            # Rendered by the tests; the shipped configuration writes it out, and checking
            # it again would cost every command jinja2's import (20 ms).
            return value
        from jinja2 import TemplateError

        from watcher.delivery.templating import render_subject

        try:
            sample = render_subject(value, date="1 Jan 2026", count=1, near_misses=0, summary="x")
        except TemplateError as exc:
            raise ValueError(f"not a usable template: {exc}") from None
        if not sample.strip():
            raise ValueError("the subject comes out empty")
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _check_address(address: str) -> None:
    _name, parsed = parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    if not at or not local or ("." not in domain and domain != "localhost") or parsed != address:
        raise ValueError(f"{address!r} is not an email address (name@example.org)")


class SmtpConfig(_Strict):
    """The mail server. The password comes only from WATCHER_SMTP_PASSWORD, so that it
    is in no file and no log."""

    host: str = "localhost"
    port: Annotated[int, Field(gt=0, lt=65536)] = 25
    starttls: bool = False
    implicit_tls: bool = False
    username: str = ""
    ca_file: Path | None = None  # trust this CA too (a private mail server's)
    timeout: Annotated[float, Field(gt=0)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3  # after a temporary failure
    retry_seconds: Annotated[float, Field(ge=0)] = 10.0  # the first wait; it doubles

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpConfig:
        if self.starttls and self.implicit_tls:
            raise ValueError("starttls and implicit_tls cannot both be true")
        return self


class SourceConfig(_Strict):
    """One source. ``kind`` says what ``url`` is: a feed (RSS, Atom, JSON Feed), a
    sitemap (or sitemap index, gzipped or not), or a listing page whose article links
    ``selector`` (CSS) picks out. ``url_pattern`` (a regular expression searched in each
    link) keeps only article URLs from a sitemap or listing. ``fetch_page = false`` takes
    a feed's own full text instead of downloading each page (a summary-only feed's pages
    are downloaded anyway). ``sitemap`` names a feed source's sitemap, read to backfill
    when a poll suggests entries dropped off the feed unseen."""

    name: Annotated[str, Field(min_length=1)]
    url: AnyHttpUrl
    homepage: AnyHttpUrl | None = None
    language: str = "en"
    tags: list[str] = []
    interval_minutes: Annotated[int, Field(ge=1)] = 60
    max_age_days: Annotated[int, Field(ge=0)] = 30
    kind: Literal["feed", "sitemap", "listing"] = "feed"
    selector: str | None = None
    url_pattern: str | None = None
    fetch_page: bool = True
    sitemap: AnyHttpUrl | None = None

    @property
    def feed_url(self) -> str:
        return str(self.url)

    @field_validator("url_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is not None:
            from watcher.sources.selectors import css_to_xpath

            try:
                css_to_xpath(value)
            except ValueError as exc:
                raise ValueError(f"not a CSS selector: {exc}") from None
        return value

    @model_validator(mode="after")
    def _kind_options(self) -> SourceConfig:
        if self.kind == "listing" and not self.selector:
            raise ValueError("a listing source needs a selector for its article links")
        if self.kind != "listing" and self.selector:
            raise ValueError("selector is for listing sources only")
        if self.kind != "feed" and (self.sitemap or not self.fetch_page):
            raise ValueError("sitemap and fetch_page are for feed sources only")
        return self


class PartyConfig(_Strict):
    """A party to ties: the lower-case patterns that name it (see data/topics.toml)."""

    name: Annotated[str, Field(min_length=1)]
    terms: Annotated[list[str], Field(min_length=1)]
    anchors: list[str] = []
    voice: list[str] = []  # first-person terms, in a text whose opening matches voice_when
    voice_when: list[str] = []
    participant: list[str] = []  # a sentence naming the party only as a group's member


class TopicConfig(_Strict):
    """A tie between two parties; a default of the same name is replaced."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    parties: Annotated[list[str], Field(min_length=2, max_length=2)]
    terms: list[str] = []
    context_terms: list[str] = []
    anchors: list[str] = []
    observer: str | None = None
    pair_weight: Annotated[float, Field(gt=0, le=1)] = 1.0
    near_weight: Annotated[float, Field(gt=0, le=1)] = 0.5
