"""What a pass came to: per source, per entry, and what failed, grouped as said.

An entry's outcome is a typed value counted by its fields; failures are grouped by
source, kind and host, so that 195 entries of one archive refused the same way are one
line with a count and an example, not 195. A pass in which (nearly) every source failed
the same network way is the machine's outage, not the sources' (``seems_offline``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "NETWORK_KINDS",
    "EntryFailure",
    "EntryOutcome",
    "FailureGroup",
    "PassReport",
    "SourceReport",
    "StageTimes",
    "group_failures",
    "seems_offline",
]

# Failures that a machine without a network gives for every host alike.
NETWORK_KINDS = frozenset({"dns", "connect", "timeout"})
_OFFLINE_SHARE = 0.9  # of the sources polled, failing the same network way
_OFFLINE_MIN_HOSTS = 2  # one host down is that host's outage, not the machine's

OutcomeKind = Literal["filed", "recorded", "duplicate", "too_old", "failed"]


@dataclass(frozen=True, slots=True)
class EntryFailure:
    """One entry that failed: the link, why, and whether it is tried again."""

    link: str
    kind: str
    detail: str
    will_retry: bool
    entry_id: int | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.link).hostname or "?"

    def __str__(self) -> str:
        return f"{self.link}: {self.kind}: {self.detail}" + (
            " (will retry)" if self.will_retry else ""
        )


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What became of one entry."""

    kind: OutcomeKind
    relevant: bool = False
    failure: EntryFailure | None = None

    @classmethod
    def failed(cls, failure: EntryFailure) -> EntryOutcome:
        return cls("failed", failure=failure)


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Entries of one source that failed the same way at one host."""

    kind: str
    host: str
    count: int
    example: EntryFailure

    def __str__(self) -> str:
        retry = " (will retry)" if self.example.will_retry else ""
        if self.count == 1:
            return f"entry failed: {self.example.link}: {self.kind}: {self.example.detail}{retry}"
        return (
            f"{self.count} entries failed at {self.host} ({self.kind}){retry},"
            f" e.g. {self.example.link}: {self.example.detail}"
        )


@dataclass(slots=True)
class SourceReport:
    name: str
    url: str
    seen: int = 0
    new: int = 0
    relevant: int = 0
    filed: int = 0
    duplicates: int = 0
    errors: int = 0
    error: str | None = None  # the source itself failed: this is why
    error_kind: str | None = None
    warnings: list[str] = field(default_factory=list)
    failures: list[EntryFailure] = field(default_factory=list)
    source_id: int | None = None
    offline: bool = False  # failed in a pass the machine seemed offline: not held against it

    @property
    def failed(self) -> bool:
        return self.error is not None

    def count(self, outcome: EntryOutcome) -> None:
        if outcome.kind == "duplicate":
            self.duplicates += 1
        elif outcome.failure is not None:
            self.errors += 1
            self.failures.append(outcome.failure)
        else:
            self.filed += outcome.kind == "filed"
            self.relevant += outcome.relevant

    def failure_groups(self) -> list[FailureGroup]:
        return group_failures(self.failures)


class StageTimes:
    """Seconds a pass spent per stage, so that a slow pass says where (``watcher fetch
    -v`` logs them, ``bench/fetch_pass.py`` prints them). Work this process does between
    awaits (settling, the manifest) is its own; waits (feeds, pages, analysis in a
    worker, files on a thread) overlap one another and are summed over what was in
    flight, so they add up to more than the pass's wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)


@dataclass(frozen=True, slots=True)
class PassReport:
    sources: tuple[SourceReport, ...]
    offline: str | None = None  # the pass seemed to run without a network: the kind
    times: dict[str, float] = field(default_factory=dict)  # StageTimes.seconds

    @property
    def all_failed(self) -> bool:
        return bool(self.sources) and all(report.failed for report in self.sources)


def group_failures(failures: Iterable[EntryFailure]) -> list[FailureGroup]:
    """One group per kind and host, largest first, each with its first failure."""
    groups: dict[tuple[str, str], list[EntryFailure]] = {}
    for failure in failures:
        groups.setdefault((failure.kind, failure.host), []).append(failure)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return [FailureGroup(kind, host, len(items), items[0]) for (kind, host), items in ordered]


def seems_offline(reports: Sequence[SourceReport]) -> str | None:
    """The network kind (``dns``, ``connect``, ``timeout``) when nearly every source
    polled failed with it, from at least two hosts: the machine, not the sources, is
    cut off. None otherwise."""
    kinds = Counter(r.error_kind for r in reports if r.error_kind in NETWORK_KINDS)
    if not kinds:
        return None
    kind, count = kinds.most_common(1)[0]
    hosts = {urlsplit(r.url).hostname for r in reports if r.error_kind == kind}
    if count >= _OFFLINE_SHARE * len(reports) and len(hosts) >= _OFFLINE_MIN_HOSTS:
        return kind
    return None
