"""The whole configuration: its sections, and the checks that span them."""

from __future__ import annotations

from pydantic import Field, PrivateAttr, model_validator

from watcher.config.sections import (
    ClassifyConfig,
    DaemonConfig,
    DedupConfig,
    DigestConfig,
    HttpConfig,
    PartyConfig,
    QueueConfig,
    ScheduleConfig,
    SmtpConfig,
    SourceConfig,
    StorageConfig,
    TopicConfig,
    WebConfig,
    _Strict,
)
from watcher.relevance.lexicon import Lexicon, build_lexicon, default_lexicon

__all__ = ["Config"]


class Config(_Strict):
    storage: StorageConfig = StorageConfig()
    http: HttpConfig = HttpConfig()
    classify: ClassifyConfig = ClassifyConfig()
    dedup: DedupConfig = DedupConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    daemon: DaemonConfig = DaemonConfig()
    web: WebConfig = WebConfig()
    queue: QueueConfig = QueueConfig()
    digest: DigestConfig = DigestConfig()
    smtp: SmtpConfig = SmtpConfig()
    sources: list[SourceConfig] = Field(default_factory=list)
    parties: list[PartyConfig] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=list)

    _lexicon: Lexicon | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _lexicon_builds(self) -> Config:
        # Tables of the user's are built here: a bad pattern or an unknown party is a
        # configuration error. Without them the lexicon is the shipped one, compiled once
        # per process when a stage first asks (30 ms a command like `items list` skips).
        if self.parties or self.topics:
            self._lexicon = build_lexicon(
                [party.model_dump() for party in self.parties],
                [topic.model_dump() for topic in self.topics],
            )
        return self

    def lexicon(self) -> Lexicon:
        """The default topics with this configuration's tables laid over them."""
        return self._lexicon if self._lexicon is not None else default_lexicon()

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
