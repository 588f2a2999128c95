"""Prometheus metrics of the notifier (services/common/metrics.py did not exist when written)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ROUTED = Counter("relay_notifier_routed_total", "Delivery jobs created by routing")
ATTEMPTS = Counter(
    "relay_notifier_attempts_total",
    "Delivery attempts by channel and verdict",
    ["channel", "verdict"],
)
ESCALATIONS = Counter("relay_notifier_escalations_total", "Escalation steps taken")
ACKS = Counter("relay_notifier_acks_total", "Acknowledgements received", ["kind"])
PENDING = Gauge("relay_notifier_pending", "Jobs waiting in lanes or timers")
