"""Database tables. They stay inside the storage layer; other stages see dataclasses.

Every time is an aware UTC datetime (SQLModel's UTCDateTime stores it as UTC on both
databases and gives it back aware, also from SQLite, which keeps no zone).

- ``Source``: a feed's polling state, keyed by feed URL so a renamed source keeps history.
- ``Item``: one article, however many times it was seen (seeds included); owns the
  corpus file if it has one. ``file_number`` is unique: the database allocates numbers.
- ``Entry``: every feed entry ever seen, with its processing state; ``item_id`` is the
  item it produced or, when ``duplicate`` is true, the item it copies.
- ``UrlAlias``: every canonical URL known for an item (feed link, final URL, page
  canonical), so a copy is recognised before its page is downloaded.
- ``Mark``: the user's judgements (relevant or irrelevant, with labels), which teach the
  classifier and are never overwritten by it; ``TaughtModel``: the relevance model
  refitted with them; ``Setting``: small named values; ``WordingVector``: the embedding
  of an evidence text's wording, so that scoring an article again does not embed it again.
- ``Paragraph``: fingerprints of an item's long paragraphs, for copies whose furniture
  differs (a seed file with its masthead versus the same article extracted from the web).
- ``Band``: an item's MinHash LSH keys (``watcher.dedup.neardup``): the near-duplicate index,
  kept in the database so that no process holds it in memory or rebuilds it at start-up.
- ``SentDigest``: every digest made for a recipient, sent or not; ``DigestItem``: what each
  recipient has been sent, so that nothing reaches anyone twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Band",
    "DigestItem",
    "Entry",
    "Item",
    "Mark",
    "Paragraph",
    "SentDigest",
    "Setting",
    "Source",
    "TaughtModel",
    "UrlAlias",
    "WordingVector",
]


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    feed_url: str = Field(unique=True, max_length=2048)
    name: str = Field(max_length=300)
    etag: str | None = Field(default=None, max_length=1024)
    last_modified: str | None = Field(default=None, max_length=200)
    body_hash: str | None = Field(default=None, max_length=64)
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_kind: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    interval_seconds: int | None = None  # the adapted interval (watcher.sources.planning)
    last_new_at: datetime | None = None  # the last poll that brought a new entry
    polls_without_new: int = 0  # successful polls since then: many mean a stale feed
    gap_suspected_at: datetime | None = None  # a poll found every entry new: some lost?
    failing_since: datetime | None = None  # the first of the failures in a row


class Item(SQLModel, table=True):
    __tablename__ = "items"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=16, unique=True, index=True)  # one item per article URL
    url: str | None = Field(default=None, max_length=2048)
    is_seed: bool = False
    title: str | None = Field(default=None, sa_column=Column(Text))
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_hash: str = Field(max_length=64, index=True)
    n_paragraphs: int = 0
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published: datetime | None = None
    fetched: datetime | None = None
    language: str | None = Field(default=None, max_length=20)
    source_name: str | None = Field(default=None, max_length=300)
    relevant: bool = False
    score: float = 0.0
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # every tie's score, not only those that passed: the strongest names a near miss's tie
    tie_scores: dict[str, float] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    user_mark: str | None = Field(default=None, max_length=20)
    # the ties the user gave with their latest mark ([] with "irrelevant"); NULL: none
    # given, the classifier's labels stand (migration 0011)
    user_labels: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    file: str | None = Field(default=None, unique=True, max_length=255)
    file_number: int | None = Field(default=None, unique=True)
    filed_at: datetime | None = None
    file_missing: bool = False
    # an excerpt stored before its full article: the article's id (migration 0010)
    copy_of: int | None = Field(default=None, index=True)


class Entry(SQLModel, table=True):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("source_id", "entry_key", name="uq_entries_source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    entry_key: str = Field(max_length=2048)
    guid: str | None = Field(default=None, max_length=2048)
    link: str = Field(max_length=2048)
    url_hash: str = Field(max_length=64, index=True)
    final_url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, sa_column=Column(Text))
    published: datetime | None = None
    first_seen: datetime
    fetched_at: datetime | None = None
    # pending | failed | done; indexed: the daemon asks every tick which sources have
    # entries waiting, and nearly all rows are done
    state: str = Field(default="pending", max_length=10, index=True)
    permanent: bool = False
    attempts: int = 0
    next_try: datetime | None = None
    error_kind: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, max_length=20)
    item_id: int | None = Field(default=None, foreign_key="items.id", index=True)
    duplicate: bool = False
    feed_content: str | None = Field(default=None, sa_column=Column(Text))


class UrlAlias(SQLModel, table=True):
    __tablename__ = "url_aliases"

    url_hash: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=2048)
    item_id: int = Field(foreign_key="items.id", index=True)
    rules_version: int


class Paragraph(SQLModel, table=True):
    __tablename__ = "paragraphs"
    __table_args__ = (UniqueConstraint("hash", "item_id", name="uq_paragraphs_hash_item"),)

    id: int | None = Field(default=None, primary_key=True)
    hash: str = Field(max_length=16, index=True)
    item_id: int = Field(foreign_key="items.id", index=True)


class Band(SQLModel, table=True):
    __tablename__ = "minhash_bands"

    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    item_id: int = Field(foreign_key="items.id", primary_key=True, index=True)


class Mark(SQLModel, table=True):
    """A user's judgement of an item; the latest per item counts, none is ever overwritten."""

    __tablename__ = "marks"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    mark: str = Field(max_length=20)  # relevant | irrelevant
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created: datetime


class TaughtModel(SQLModel, table=True):
    """The relevance model refitted on the shipped examples and the user's marks: one
    row per model version (the latest is used), so every process reads the same model."""

    __tablename__ = "taught_models"

    version: int = Field(primary_key=True)
    created: datetime
    marks: int
    document: str = Field(sa_column=Column(Text, nullable=False))


class WordingVector(SQLModel, table=True):
    """The embedding of an evidence text's wording (``watcher.relevance.wording``), by a
    digest of the text and the encoder's version: half precision, 1 KB. Scoring the 300
    newest articles again after a mark embedded each unsure one again, 20 ms apiece."""

    __tablename__ = "wording_vectors"

    digest: str = Field(primary_key=True, max_length=64)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Setting(SQLModel, table=True):
    """Small named values, such as the model version a running daemon compares with."""

    __tablename__ = "settings"

    name: str = Field(primary_key=True, max_length=100)
    value: str = Field(max_length=1000)


class SentDigest(SQLModel, table=True):
    """One digest for one recipient: sent, empty (nothing to say) or failed."""

    __tablename__ = "digests"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320, index=True)
    slot: datetime | None = None  # the scheduled send time it served; None: sent by hand
    selected_at: datetime  # when its articles were chosen
    sent_at: datetime | None = None  # when the server accepted it
    status: str = Field(max_length=10)  # sent | empty | failed
    message_id: str | None = Field(default=None, max_length=300)
    items: int = 0
    near_misses: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class DigestItem(SQLModel, table=True):
    """An article a recipient has been sent (in full, or as a near miss): never again."""

    __tablename__ = "digest_items"

    recipient: str = Field(max_length=320, primary_key=True)
    item_id: int = Field(foreign_key="items.id", primary_key=True, index=True)
    digest_id: int = Field(foreign_key="digests.id", index=True)
    kind: str = Field(max_length=10)  # item | near_miss
