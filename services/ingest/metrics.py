"""Prometheus metrics of the ingest service (``/metrics``).

Two views of the same counts: the ingest-specific ``relay_ingest_*`` series (intake and
outcome) and the standard series every service exports (services/common/metrics.py), which
deploy/prometheus/rules.yml and deploy/grafana/dashboard.json query. ``EVENTS.labels(intake,
outcome).inc()`` feeds both, so call sites stay as they are.

Standard series from ingest (``service="ingest"``):

- ``relay_events_in_total{topic}``: every event received; ``topic`` is the intake, ``http``
  or the raw topic ``ingest.raw`` (without the deployment's topic prefix).
- ``relay_events_out_total{topic="events"}``: events accepted onto the ``events.*`` topics.
- ``relay_dead_letters_total{topic}``: raw records sent to ``ingest.raw.dlq`` for any reason
  (unsigned, not JSON, invalid), labelled with the topic read (``ingest.raw`` as the broker
  names it); counted by the fate wrapper that writes them.

The standard series are declared once, in services/common/metrics.py (``process_metrics``).
Ingest's own, besides the ``relay_ingest_*`` ones:

- ``relay_validation_failures_total{service,reason}``: ``rejected`` (422), ``forbidden`` (403)
  and ``dead_lettered`` (a raw record that failed validation).
- ``relay_events_by_agency_total{agency}`` and ``relay_last_event_timestamp_seconds{agency}``:
  lets an alert say an agency has gone silent.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from schemas.outcomes import IngestOutcome
from services.common.lag import process_lag_sink
from services.common.metrics import child, process_metrics

SERVICE = "ingest"
STANDARD = process_metrics(SERVICE)
# Intake -> the ``topic`` label of the standard series (unprefixed catalogue names).
SOURCES = {"http": "http", "kafka": "ingest.raw"}
FAILURES = frozenset({IngestOutcome.REJECTED, IngestOutcome.FORBIDDEN, "dead_lettered"})

INGEST_EVENTS = Counter(
    "relay_ingest_events_total",
    "Events by intake (http, kafka) and outcome (accepted, duplicate, rejected, forbidden, "
    "unavailable, rate_limited, dead_lettered)",
    ["intake", "outcome"],
)
EVENTS_IN = STANDARD.events_in
EVENTS_OUT = STANDARD.events_out
VALIDATION_FAILURES = Counter(
    "relay_validation_failures_total", "Records rejected by validation", ["service", "reason"]
)
REQUESTS = Histogram(
    "relay_ingest_request_seconds",
    "HTTP request latency by endpoint and status",
    ["endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge("relay_ingest_in_flight_events", "Events produced, not yet acknowledged")
FLAGS = Counter("relay_ingest_field_flags_total", "Fields flagged during normalisation", ["field"])
# Per agency (a bounded set, from the agencies file): lets an alert say an agency went silent.
BY_AGENCY = Counter("relay_events_by_agency_total", "Events accepted per agency", ["agency"])
LAST_EVENT = Gauge(
    "relay_last_event_timestamp_seconds",
    "When the last event of an agency was accepted (epoch s)",
    ["agency"],
)


def set_lag(lags: Iterable[tuple[str, int, int]]) -> None:
    process_lag_sink("ingest")(lags)


# Labelled children through ``child`` (looked up once per label set). Every label set here is
# bounded: constants, field paths ingest writes, agency ids from the agencies file, statuses.
def agency_accepted(agency_id: str, count: int) -> None:
    if count:
        child(BY_AGENCY, agency_id).inc(count)
        child(LAST_EVENT, agency_id).set_to_current_time()


def count_flag(field: str) -> None:
    child(FLAGS, field).inc()


def observe_request(endpoint: str, status: int, seconds: float) -> None:
    child(REQUESTS, endpoint, str(status)).observe(seconds)


class _Outcome:
    """One (intake, outcome): the children of every series it feeds, found at the first inc."""

    def __init__(self, intake: str, outcome: str) -> None:
        self.intake, self.outcome = intake, outcome
        self._children: list[Counter] | None = None

    def _resolve(self) -> list[Counter]:
        source = SOURCES.get(self.intake, self.intake)
        children = [
            INGEST_EVENTS.labels(self.intake, self.outcome),
            EVENTS_IN.labels(SERVICE, source),
        ]
        if self.outcome == IngestOutcome.ACCEPTED:
            children.append(EVENTS_OUT.labels(SERVICE, "events"))
        if self.outcome in FAILURES:
            children.append(VALIDATION_FAILURES.labels(SERVICE, self.outcome))
        return children

    def inc(self, amount: float = 1) -> None:
        children = self._children
        if children is None:
            children = self._children = self._resolve()
        for series in children:
            series.inc(amount)


class _Events:
    """``EVENTS.labels(intake, outcome).inc(n)``, counted in both views."""

    def __init__(self) -> None:
        self._outcomes: dict[tuple[str, str], _Outcome] = {}

    def labels(self, intake: str, outcome: str) -> _Outcome:
        found = self._outcomes.get((intake, outcome))
        if found is None:
            found = self._outcomes[(intake, outcome)] = _Outcome(intake, outcome)
        return found


EVENTS = _Events()
