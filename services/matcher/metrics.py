"""The matcher's metrics: the standard series (``services.common.metrics``) and its own, in a
registry of its own (tests run many matchers in one process).

- ``relay_match_latency_seconds`` (histogram): seconds from an event consumed to its alerts
  handed to the producer;
- ``relay_alerts_total{list,band}``: alerts raised.
- ``relay_suppressed_matches_total{list}``: matches a false-match suppression kept from alerting.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from services.common.metrics import Metrics

# Screening is meant to take milliseconds; the buckets resolve 1 ms .. 5 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class MatcherMetrics(Metrics):
    service: str = "matcher"

    def __post_init__(self) -> None:
        super().__post_init__()
        r = self.registry
        self.match_latency = Histogram("relay_match_latency_seconds",
            "Event consumed to alert produced", buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.alerts = Counter("relay_alerts", "Alerts raised", ["list", "band"], registry=r)
        self.suppressed = Counter("relay_suppressed_matches",
            "Matches not alerted: a false-match suppression", ["list"], registry=r)  # fmt: skip
