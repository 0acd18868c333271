"""``/metrics``: the daemon's counters and the status gauges, written by prometheus_client.

Counters count since the process started (passes, polls by outcome, source errors by
kind, feed entries by outcome); the gauges (``watcher.services.status``) are read from
the database when /metrics is asked, so they hold for any deployment.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watcher.report import PassReport

__all__ = ["Metrics", "exposition"]

log = logging.getLogger(__name__)


@dataclass
class Metrics:
    passes: int = 0
    last_pass_at: datetime | None = None
    polls: Counter[str] = field(default_factory=Counter)  # ok | failed
    source_errors: Counter[str] = field(default_factory=Counter)  # by error kind
    articles: Counter[str] = field(default_factory=Counter)  # new | relevant | filed | ...
    # Gauges read from the database when /metrics is asked, if set.
    status: Callable[[], Iterable[Metric]] | None = None

    def count(self, report: PassReport, finished: datetime) -> None:
        self.passes += 1
        self.last_pass_at = finished
        for source in report.sources:
            self.polls["failed" if source.failed else "ok"] += 1
            if source.error_kind:
                self.source_errors[source.error_kind] += 1
            self.articles["new"] += source.new
            self.articles["relevant"] += source.relevant
            self.articles["filed"] += source.filed
            self.articles["duplicate"] += source.duplicates
            self.articles["failed"] += source.errors


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        yield CounterMetricFamily("watcher_passes", "Passes completed since start.", m.passes)
        yield GaugeMetricFamily(
            "watcher_last_pass_timestamp_seconds",
            "When the last pass finished.",
            m.last_pass_at.timestamp() if m.last_pass_at else 0.0,
        )
        yield _counter("watcher_polls", "Feed polls by outcome.", "outcome", m.polls)
        yield _counter(
            "watcher_source_errors", "Failed polls by error kind.", "kind", m.source_errors
        )
        yield _counter("watcher_articles", "Feed entries by outcome.", "outcome", m.articles)
        if m.status is not None:
            try:
                yield from list(m.status())
            except Exception:  # the database is down: /healthz says so; counters still count
                log.exception("status_unavailable")


def _counter(name: str, documentation: str, label: str, values: Counter[str]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def exposition(metrics: Metrics) -> bytes:
    """The Prometheus text format of everything above."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))
    return generate_latest(registry)
