"""Prometheus metrics of the ingest service (``/metrics``).

Two views of the same counts: the ingest-specific ``relay_ingest_*`` series (intake and
outcome) and the standard series every service exports (services/common/metrics.py), which
deploy/prometheus/rules.yml and deploy/grafana/dashboard.json query. ``EVENTS.labels(intake,
outcome).inc()`` feeds both, so call sites stay as they are.

Standard series from ingest (``service="ingest"``):

- ``relay_events_in_total{topic}``: every event received; ``topic`` is the intake, ``http``
  or the raw topic ``ingest.raw`` (without the deployment's topic prefix).
- ``relay_events_out_total{topic="events"}``: events accepted onto the ``events.*`` topics.
- ``relay_validation_failures_total{reason}``: ``rejected`` (422), ``forbidden`` (403) and
  ``dead_lettered`` (a raw record that failed validation).
- ``relay_dead_letters_total{topic="ingest.raw"}``: raw records sent to ``ingest.raw.dlq``,
  labelled with the topic they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from services.common.lag import process_lag_sink

SERVICE = "ingest"
# Intake -> the ``topic`` label of the standard series (unprefixed catalogue names).
SOURCES = {"http": "http", "kafka": "ingest.raw"}
FAILURES = frozenset({"rejected", "forbidden", "dead_lettered"})

INGEST_EVENTS = Counter(
    "relay_ingest_events_total",
    "Events by intake (http, kafka) and outcome (accepted, duplicate, rejected, forbidden, "
    "unavailable, rate_limited, dead_lettered)",
    ["intake", "outcome"],
)
EVENTS_IN = Counter("relay_events_in", "Records consumed or accepted", ["service", "topic"])
EVENTS_OUT = Counter("relay_events_out", "Records produced", ["service", "topic"])
VALIDATION_FAILURES = Counter(
    "relay_validation_failures", "Records rejected by validation", ["service", "reason"]
)
DEAD_LETTERS = Counter(
    "relay_dead_letters", "Records sent to a dead-letter topic", ["service", "topic"]
)
REQUESTS = Histogram(
    "relay_ingest_request_seconds",
    "HTTP request latency by endpoint and status",
    ["endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge("relay_ingest_in_flight_events", "Events produced, not yet acknowledged")
FLAGS = Counter("relay_ingest_field_flags_total", "Fields flagged during normalisation", ["field"])
READY = Gauge("relay_ingest_ready", "1 when the broker answered the last readiness check")
# Per agency (a bounded set, from the agencies file): lets an alert say an agency went silent.
BY_AGENCY = Counter("relay_events_by_agency", "Events accepted per agency", ["agency"])
LAST_EVENT = Gauge(
    "relay_last_event_timestamp_seconds", "When an agency's last event was accepted", ["agency"]
)


def set_lag(lags: Iterable[tuple[str, int, int]]) -> None:
    process_lag_sink("ingest")(lags)


def agency_accepted(agency_id: str, count: int) -> None:
    if count:
        BY_AGENCY.labels(agency_id).inc(count)
        LAST_EVENT.labels(agency_id).set_to_current_time()


@dataclass(frozen=True)
class _Outcome:
    intake: str
    outcome: str

    def inc(self, amount: float = 1) -> None:
        INGEST_EVENTS.labels(self.intake, self.outcome).inc(amount)
        source = SOURCES.get(self.intake, self.intake)
        EVENTS_IN.labels(SERVICE, source).inc(amount)
        if self.outcome == "accepted":
            EVENTS_OUT.labels(SERVICE, "events").inc(amount)
        if self.outcome in FAILURES:
            VALIDATION_FAILURES.labels(SERVICE, self.outcome).inc(amount)
        if self.outcome == "dead_lettered":
            DEAD_LETTERS.labels(SERVICE, source).inc(amount)


class _Events:
    """``EVENTS.labels(intake, outcome).inc(n)``, counted in both views."""

    def labels(self, intake: str, outcome: str) -> _Outcome:
        return _Outcome(intake, outcome)


EVENTS = _Events()
