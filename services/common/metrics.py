"""Prometheus metrics every service exports, with the same names and labels everywhere.

Usage::

    from services.common.metrics import Metrics, serve_metrics

    metrics = Metrics(service="matcher")            # one per process; its own registry
    metrics.events_in.labels(service="matcher", topic=topic).inc()
    STANDARD = process_metrics("notifier")          # or: the process's default registry
    with metrics.match_latency.time():
        ...
    metrics.alerts.labels(list="red_notice", band="strong").inc()
    server = serve_metrics(metrics, port=settings.matcher_metrics_port)   # non-HTTP services
    ...
    server.stop()

Services with an HTTP server answer ``/metrics`` on it instead (``health.ops_app`` for the
matcher) rather than serving a port of their own. The matcher exports a ``Metrics`` of its own
(tests run many matchers in one process); ingest and the notifier export the default registry
(``generate_latest()``) and take the same series from ``process_metrics``, so every series is
declared once, here.

Metric names (all carry the ``relay_`` prefix; counters end in ``_total`` when exposed):

- ``relay_events_in_total{service,topic}``, ``relay_events_out_total{service,topic}``
- ``relay_validation_failures_total{service,reason}``
- ``relay_match_latency_seconds`` (histogram, seconds from event consumed to alert produced)
- ``relay_alerts_total{list,band}``
- ``relay_deliveries_total{channel,outcome}``, ``relay_delivery_retries_total{channel}``
- ``relay_circuit_state{endpoint}`` (0 closed, 1 half-open, 2 open)
- ``relay_consumer_lag{service,topic,partition}`` (gauge, records)
- ``relay_dead_letters_total{service,topic}``: ``topic`` is the one the record was read from
  (the notifier's undeliverable alerts: its alerts topic); counted by ``fate.FateWrapper``
  and the notifier's ``writer.Writer.dead_letter``, where dead letters are written
- ``relay_events_by_agency_total{agency}`` and ``relay_last_event_timestamp_seconds{agency}``
  (ingest: lets an alert say an agency has gone silent)

Labels stay low-cardinality: never an event id, a name or a document number.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar, cast
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import start_http_server
from prometheus_client.metrics import MetricWrapperBase

# Screening is meant to take milliseconds; the buckets resolve 1 ms .. 5 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


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


class CircuitState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass
class Metrics:
    """The standard metrics, registered in a registry of their own (tests make many)."""

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
        self.validation_failures = Counter("relay_validation_failures",
            "Records rejected by validation", ["service", "reason"], registry=r)  # fmt: skip
        self.match_latency = Histogram("relay_match_latency_seconds",
            "Event consumed to alert produced", buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.alerts = Counter("relay_alerts", "Alerts raised", ["list", "band"], registry=r)
        self.deliveries = Counter("relay_deliveries", "Delivery attempts by outcome",
                                  ["channel", "outcome"], registry=r)  # fmt: skip
        self.delivery_retries = Counter("relay_delivery_retries", "Delivery retries",
                                        ["channel"], registry=r)  # fmt: skip
        self.circuit_state = Gauge("relay_circuit_state",
            "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open", ["endpoint"],
            registry=r)  # fmt: skip
        self.consumer_lag = Gauge("relay_consumer_lag", "Records behind the end of a partition",
                                  ["service", "topic", "partition"], registry=r)  # fmt: skip
        self.dead_letters = Counter("relay_dead_letters", "Records sent to a dead-letter topic",
                                    ["service", "topic"], registry=r)  # fmt: skip
        self.events_by_agency = Counter("relay_events_by_agency", "Events accepted per agency",
                                        ["agency"], registry=r)  # fmt: skip
        self.last_event = Gauge("relay_last_event_timestamp_seconds",
            "When the last event of an agency was accepted (epoch s)", ["agency"],
            registry=r)  # fmt: skip

    def for_service(self, service: str) -> Metrics:
        """The same series (same registry, nothing declared again) reported as ``service``."""
        view = copy.copy(self)
        view.service = service
        return view

    def event_in(self, topic: str, count: int = 1) -> None:
        self.events_in.labels(service=self.service, topic=topic).inc(count)

    def event_out(self, topic: str, count: int = 1) -> None:
        self.events_out.labels(service=self.service, topic=topic).inc(count)

    def dead_lettered(self, topic: str) -> None:
        """One record written to a dead-letter topic; ``topic``: where it was read from."""
        child(self.dead_letters, self.service, topic).inc()

    def validation_failed(self, reason: str) -> None:
        self.validation_failures.labels(service=self.service, reason=reason).inc()

    def agency_event(self, agency: str, at: float) -> None:
        self.events_by_agency.labels(agency=agency).inc()
        self.last_event.labels(agency=agency).set(at)

    def set_lag(self, lags: Iterable[tuple[str, int, int]]) -> None:
        """``(topic, partition, lag)`` for every assigned partition."""
        for topic, partition, lag in lags:
            self.consumer_lag.labels(service=self.service, topic=topic,
                                     partition=str(partition)).set(lag)  # fmt: skip

    def set_circuit(self, endpoint: str, state: CircuitState) -> None:
        self.circuit_state.labels(endpoint=endpoint).set(int(state))


def process_metrics(service: str) -> Metrics:
    """The standard series on the process's default registry, as ``service`` reports them:
    for services that export that registry (ingest, the notifier) and the code they share
    (consumer lag, dead letters). Declared at the first call, once per process."""
    return _process_series().for_service(service)


@functools.cache
def _process_series() -> Metrics:
    return Metrics(service="", registry=REGISTRY)


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(metrics: Metrics, port: int, addr: str = "0.0.0.0") -> MetricsServer:  # noqa: S104
    """Serve ``/metrics`` on ``port`` from a daemon thread (port 0: any free port)."""
    server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return MetricsServer(server=server, thread=thread)
