"""Configuration: one TOML file, validated once, with a few environment overrides.

The keys are a contract (DESIGN.md): scripts and deployments write them, so keys may be
added but never renamed. Unknown keys are errors, because a misspelt key that is silently
ignored is a setting the user believes in and does not have.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import TemplateError
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from watcher.errors import ConfigError
from watcher.lexicon import Lexicon, build_lexicon
from watcher.selectors import css_to_xpath
from watcher.templating import render_subject

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ClassifyConfig",
    "Config",
    "DaemonConfig",
    "DedupConfig",
    "DigestConfig",
    "HttpConfig",
    "PartyConfig",
    "QueueConfig",
    "ScheduleConfig",
    "SmtpConfig",
    "SourceConfig",
    "StorageConfig",
    "TopicConfig",
    "config_path_from_env",
    "load_config",
]

DEFAULT_CONFIG_PATH = Path("config/watcher.toml")


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
    respect_robots: bool = True  # robots.txt rules for article pages (watcher.robots)

    @field_validator("allowed_networks")
    @classmethod
    def _networks_parse(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)  # raises ValueError, named by pydantic
        return value


class ClassifyConfig(_Strict):
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.5


class ScheduleConfig(_Strict):
    """How the daemon paces its polls (watcher.schedule says how they are used)."""

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
    """Near-duplicate detection (watcher.neardup says what each number means)."""

    shingle_words: Annotated[int, Field(ge=1, le=20)] = 5
    bands: Annotated[int, Field(ge=1, le=64)] = 21
    rows: Annotated[int, Field(ge=1, le=16)] = 3
    min_containment: Annotated[float, Field(gt=0, le=1)] = 0.8
    min_coverage: Annotated[float, Field(gt=0, le=1)] = 0.7


DEFAULT_SUBJECT = "watcher, {{ date }}: {{ summary }}"


class DigestConfig(_Strict):
    """The daily email (watcher.digest). ``subject`` is a Jinja2 template over ``date``,
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


class Config(_Strict):
    storage: StorageConfig = StorageConfig()
    http: HttpConfig = HttpConfig()
    classify: ClassifyConfig = ClassifyConfig()
    dedup: DedupConfig = DedupConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    daemon: DaemonConfig = DaemonConfig()
    queue: QueueConfig = QueueConfig()
    digest: DigestConfig = DigestConfig()
    smtp: SmtpConfig = SmtpConfig()
    sources: list[SourceConfig] = []
    parties: list[PartyConfig] = []
    topics: list[TopicConfig] = []

    _lexicon: Lexicon | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _lexicon_builds(self) -> Config:
        # Built once here: a bad pattern or an unknown party is a configuration error.
        self._lexicon = build_lexicon(
            [party.model_dump() for party in self.parties],
            [topic.model_dump() for topic in self.topics],
        )
        return self

    def lexicon(self) -> Lexicon:
        """The default topics with this configuration's tables laid over them."""
        assert self._lexicon is not None  # set by the validator
        return self._lexicon

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        seen_names: set[str] = set()
        seen_urls: set[str] = set()
        for source in self.sources:
            if source.name in seen_names:
                raise ValueError(f"two sources are named {source.name!r}")
            if source.feed_url in seen_urls:
                raise ValueError(f"two sources share the feed URL {source.feed_url}")
            seen_names.add(source.name)
            seen_urls.add(source.feed_url)
        return self


def config_path_from_env(explicit: Path | None) -> Path:
    """The --config option, else WATCHER_CONFIG, else the default path."""
    if explicit is not None:
        return explicit
    env = os.environ.get("WATCHER_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, validate, and resolve relative paths.

    Every problem becomes one ConfigError naming the file and the key, so the CLI can
    print it and exit 2 without a traceback.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    raw = _read_toml(path)
    raw = _apply_env(raw, env)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(str(path), [_describe(err, raw) for err in exc.errors()]) from None
    return _resolve_paths(config, path.parent, env)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    overrides = {
        ("storage", "database_url"): env.get("WATCHER_DATABASE_URL"),
        ("storage", "corpus_dir"): env.get("WATCHER_CORPUS_DIR"),
        ("smtp", "host"): env.get("WATCHER_SMTP_HOST"),
        ("smtp", "port"): env.get("WATCHER_SMTP_PORT"),
        ("smtp", "username"): env.get("WATCHER_SMTP_USERNAME"),
        ("daemon", "listen"): env.get("WATCHER_LISTEN"),
    }
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    for (table, key), value in overrides.items():
        if value:
            section = merged.setdefault(table, {})
            if isinstance(section, dict):
                section[key] = value
    return merged


def _describe(error: Any, raw: Mapping[str, Any]) -> str:
    location = _location(tuple(error["loc"]), raw)
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown key"
    return f"{location}: {error['msg']} (got {error.get('input')!r})"


def _location(loc: tuple[Any, ...], raw: Mapping[str, Any]) -> str:
    """Where in the file: a table of a list (``[[sources]]``) is named by its ``name``
    and its place, as the user finds it ("[[sources]] '38 North' (the 2nd).bogus_key"),
    not by pydantic's index ("sources.1.bogus_key")."""
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(raw.get(str(loc[0])), list):
        tables = raw[str(loc[0])]
        table = tables[loc[1]] if loc[1] < len(tables) else None
        name = table.get("name") if isinstance(table, dict) else None
        place = f"(the {_ordinal(loc[1] + 1)})"
        named = f" {name!r}" if isinstance(name, str) else ""
        head = f"[[{loc[0]}]]{named} {place}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{head}.{rest}" if rest else head
    return ".".join(str(part) for part in loc) or "(top level)"


def _ordinal(number: int) -> str:
    suffixes = {1: "st", 2: "nd", 3: "rd"}
    suffix = "th" if 10 <= number % 100 <= 20 else suffixes.get(number % 10, "th")
    return f"{number}{suffix}"


def _resolve_paths(config: Config, base: Path, env: Mapping[str, str]) -> Config:
    # Values from the environment are taken relative to the working directory, like any
    # shell path; values from the file are relative to the file's folder.
    storage = config.storage
    corpus = storage.corpus_dir
    if not corpus.is_absolute() and not env.get("WATCHER_CORPUS_DIR"):
        corpus = base / corpus
    url = storage.database_url
    if not env.get("WATCHER_DATABASE_URL"):
        url = _resolve_sqlite_url(url, base)
    new_storage = storage.model_copy(update={"corpus_dir": corpus, "database_url": url})
    update: dict[str, Any] = {"storage": new_storage}
    ca_file = config.smtp.ca_file
    if ca_file is not None and not ca_file.is_absolute():
        update["smtp"] = config.smtp.model_copy(update={"ca_file": base / ca_file})
    return config.model_copy(update=update)


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    rest = url[len(prefix) :]
    if rest.startswith("/"):
        return url
    return prefix + str((base / rest).resolve())
