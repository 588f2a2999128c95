"""The Prometheus series every service exports, with the same names and labels everywhere;
each service declares its own series beside them (``services/<svc>/metrics.py``).

Usage::

    from services.common.metrics import Metrics, process_metrics

    metrics = Metrics(service="matcher")            # its own registry (the matcher's subclass)
    STANDARD = process_metrics("notifier")          # or: the process's default registry
    metrics.event_in(topic)
    metrics.dead_lettered(topic)

The matcher exports a registry of its own (tests run many matchers in one process); ingest and
the notifier export the process's default registry and take these series from
``process_metrics``, so each is declared once, here.

Standard series (all carry the ``relay_`` prefix; counters end in ``_total`` when exposed):

- ``relay_events_in_total{service,topic}``, ``relay_events_out_total{service,topic}``
- ``relay_consumer_lag{service,topic,partition}`` (gauge, records)
- ``relay_dead_letters_total{service,topic}``: ``topic`` is the one the record was read from
  (the notifier's undeliverable alerts: its alerts topic); counted by ``fate.FateWrapper``
  and the notifier's ``writer.Writer.dead_letter``, where dead letters are written

Labels stay low-cardinality: never an event id, a name or a document number.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
from prometheus_client.metrics import MetricWrapperBase

_Metric = TypeVar("_Metric", bound=MetricWrapperBase)
_CHILDREN: dict[tuple[MetricWrapperBase, tuple[str, ...]], MetricWrapperBase] = {}


def child(metric: _Metric, *labels: str) -> _Metric:
    """``metric.labels(*labels)``, looked up once per label set: ``labels()`` costs several
    microseconds, a hot path calls it several times per event. Label sets must be bounded."""
    key = (metric, labels)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*labels)
    return cast(_Metric, found)


@dataclass
class Metrics:
    """The standard series, registered in a registry of their own (tests make many)."""

    service: str
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        r = self.registry
        self.events_in = Counter("relay_events_in", "Records consumed or accepted",
                                 ["service", "topic"], registry=r)  # fmt: skip
        self.events_out = Counter("relay_events_out", "Records produced",
                                  ["service", "topic"], registry=r)  # fmt: skip
        self.consumer_lag = Gauge("relay_consumer_lag", "Records behind the end of a partition",
                                  ["service", "topic", "partition"], registry=r)  # fmt: skip
        self.dead_letters = Counter("relay_dead_letters", "Records sent to a dead-letter topic",
                                    ["service", "topic"], registry=r)  # fmt: skip

    def for_service(self, service: str) -> Metrics:
        """The same series (same registry, nothing declared again) reported as ``service``."""
        view = copy.copy(self)
        view.service = service
        return view

    def event_in(self, topic: str, count: int = 1) -> None:
        self.events_in.labels(service=self.service, topic=topic).inc(count)

    def dead_lettered(self, topic: str) -> None:
        """One record written to a dead-letter topic; ``topic``: where it was read from."""
        child(self.dead_letters, self.service, topic).inc()

    def set_lag(self, lags: Iterable[tuple[str, int, int]]) -> None:
        """``(topic, partition, lag)`` for every assigned partition."""
        for topic, partition, lag in lags:
            self.consumer_lag.labels(service=self.service, topic=topic,
                                     partition=str(partition)).set(lag)  # fmt: skip


def process_metrics(service: str) -> Metrics:
    """The standard series on the process's default registry, as ``service`` reports them:
    for services that export that registry (ingest, the notifier) and the code they share
    (consumer lag, dead letters). Declared at the first call, once per process."""
    return _process_series().for_service(service)


@functools.cache
def _process_series() -> Metrics:
    return Metrics(service="", registry=REGISTRY)
