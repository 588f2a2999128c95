"""Prometheus metrics of the ingest service (``/metrics``).

services/common has no shared metrics module yet; these names follow the usual
``relay_<service>_<what>_<unit>`` pattern so they can move there unchanged.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "relay_ingest_events_total",
    "Events by intake (http, kafka) and outcome (accepted, duplicate, rejected, forbidden, "
    "unavailable, rate_limited, dead_lettered)",
    ["intake", "outcome"],
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
