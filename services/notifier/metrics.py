"""Prometheus metrics of the notifier (``/metrics``).

Besides the notifier's own ``relay_notifier_*`` series, every delivery attempt is counted in
the series that deploy/prometheus/rules.yml and deploy/grafana/dashboard.json query:
``relay_deliveries_total{channel,outcome}`` (outcome is the attempt's verdict: delivered,
retry, permanent) and ``relay_delivery_retries_total{channel}`` (attempts that will be
retried); ``ATTEMPTS.labels(channel, verdict).inc()`` feeds both. ``relay_circuit_state
{endpoint}`` is each breaker's state (0 closed, 1 half-open, 2 open).

Standard, from the notifier (``service="notifier"``):

- ``relay_events_in_total{topic}``: alert records consumed, by the topic read (the alerts
  topic and the urgent one, as the broker names them); ``handlers.AlertHandler`` counts them.
- ``relay_events_out_total{topic="notifications.deliveries"}``: delivery jobs routed from
  alerts, one per recipient (``ROUTED.inc(n)`` feeds it and ``relay_notifier_routed_total``).
- ``relay_dead_letters_total{topic}``: records dead-lettered, by the topic read: bad records
  on the alerts topics or ``watchlist.entries`` (``fate.FateWrapper``), and alerts whose
  delivery failed for good (``writer.Writer.dead_letter``, labelled with the alerts topic).

They are declared once, in services/common/metrics.py (``process_metrics``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from prometheus_client import Counter, Gauge

from services.common.lag import process_lag_sink
from services.common.metrics import process_metrics

SERVICE = "notifier"
STANDARD = process_metrics(SERVICE)
# The notifier's output, in the standard series' terms (catalogue name, like ingest's).
OUT_TOPIC = "notifications.deliveries"

NOTIFIER_ROUTED = Counter("relay_notifier_routed_total", "Delivery jobs created by routing")
NOTIFIER_ATTEMPTS = Counter(
    "relay_notifier_attempts_total",
    "Delivery attempts by channel and verdict",
    ["channel", "verdict"],
)
DELIVERIES = Counter(
    "relay_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"]
)
DELIVERY_RETRIES = Counter("relay_delivery_retries_total", "Delivery retries", ["channel"])
ESCALATIONS = Counter("relay_notifier_escalations_total", "Escalation steps taken")
ACKS = Counter("relay_notifier_acks_total", "Acknowledgements received", ["kind"])
PENDING = Gauge("relay_notifier_pending", "Jobs waiting in lanes or timers")
OWNED_PARTITIONS = Gauge(
    "relay_notifier_owned_partitions", "Partitions of alerts this replica sends, escalates, reminds"
)
IN_MEMORY = Gauge("relay_notifier_alerts_in_memory", "Alerts held in memory (open + recent)")
WRITE_RETRIES = Counter(
    "relay_notifier_write_retries_total",
    "Job states and audit records written again after a failed write (broker away)",
)
RECALLS = Counter("relay_notifier_recalls_total", "Evicted alerts read back from the topic")
OUTCOMES = Counter(
    "relay_notifier_outcomes_total", "Outcomes given (hit reports made), by code", ["outcome"]
)
HIT_REPORTS_ROUTED = Counter(
    "relay_notifier_hit_reports_routed_total", "Hit report delivery jobs created"
)
OUTCOME_DEADLINES = Counter(
    "relay_notifier_outcome_deadlines_total",
    "Outcome deadlines reached (12-hour rule): result in_time (an outcome came first) or "
    "missed (the supervisor desk and the coordination centre were reminded), by list",
    ["result", "list"],
)
CIRCUIT = Gauge(
    "relay_circuit_state",
    "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open",
    ["endpoint"],
)


def set_lag(lags: Iterable[tuple[str, int, int]]) -> None:
    process_lag_sink(SERVICE)(lags)


@dataclass(frozen=True)
class _Routed:
    """``ROUTED.inc(n)``: jobs routed, counted as the notifier's own series and as its output."""

    children: tuple[Counter, ...]

    def inc(self, amount: float = 1) -> None:
        for series in self.children:
            series.inc(amount)


ROUTED = _Routed((NOTIFIER_ROUTED, STANDARD.events_out.labels(SERVICE, OUT_TOPIC)))


_CIRCUIT_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def circuit(lane: str, state: str) -> None:
    """Export a breaker's state; the endpoint label drops credentials and query strings."""
    _circuit_gauge(lane).set(_CIRCUIT_VALUES.get(state, 0))


@functools.lru_cache(maxsize=4096)
def _circuit_gauge(lane: str) -> Gauge:
    # Called after every delivery attempt: parse the URL and look the label up once per lane.
    kind, _, address = lane.partition(":")
    parts = urlsplit(address)
    if parts.scheme and parts.netloc:
        address = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        address += parts.path
    return CIRCUIT.labels(f"{kind}:{address}")


@dataclass(frozen=True)
class _Attempt:
    channel: str
    verdict: str
    children: tuple[Counter, ...]

    def inc(self, amount: float = 1) -> None:
        for child in self.children:
            child.inc(amount)


class _Attempts:
    """``ATTEMPTS.labels(channel, verdict).inc()``, counted in both views."""

    def labels(self, channel: str, verdict: str) -> _Attempt:
        return _attempt(channel, verdict)


@functools.lru_cache(maxsize=256)
def _attempt(channel: str, verdict: str) -> _Attempt:
    # Once per delivery attempt: the labelled children are looked up once per (channel, verdict).
    children = [NOTIFIER_ATTEMPTS.labels(channel, verdict), DELIVERIES.labels(channel, verdict)]
    if verdict == "retry":
        children.append(DELIVERY_RETRIES.labels(channel))
    return _Attempt(channel, verdict, tuple(children))


ATTEMPTS = _Attempts()
