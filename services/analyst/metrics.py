"""The analyst's metrics: the standard series (``services.common.metrics``) and its own, in a
registry of its own (tests run several analysts in one process).

- ``relay_leads_total{pattern}``: lead records published (new or grown);
- ``relay_analysis_seconds`` (histogram): one sighting through the patterns;
- ``relay_history_persons`` (gauge): persons the history holds (after purges).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import Metrics

# One sighting is meant to take well under a millisecond; the buckets resolve 50 us .. 50 ms.
ANALYSIS_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


@dataclass
class AnalystMetrics(Metrics):
    service: str = "analyst"

    def __post_init__(self) -> None:
        super().__post_init__()
        r = self.registry
        self.leads = Counter("relay_leads", "Lead records published", ["pattern"], registry=r)
        self.analysis = Histogram("relay_analysis_seconds", "One sighting through the patterns",
                                  buckets=ANALYSIS_BUCKETS, registry=r)  # fmt: skip
        self.persons = Gauge("relay_history_persons", "Persons in the history", registry=r)
