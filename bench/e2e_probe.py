"""What the end-to-end benchmark reads from the running stack: the services' Prometheus
counters and the demo receiver's deliveries (with their receive times)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.e2e_stack import Ports

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
    return out


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of every sample ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and wanted <= lab)


@dataclass(frozen=True)
class Snapshot:
    """Counters of the three services at one moment."""

    matcher: Samples
    ingest: Samples
    notifier: Samples
    committed: float

    @property
    def screened(self) -> float:
        if not self.matcher:
            return self.committed
        return total(self.matcher, "relay_events_in_total", service="matcher")

    def figures(self) -> dict[str, float]:
        m, i, n = self.matcher, self.ingest, self.notifier
        return {
            "matcher_screened": self.screened,
            "matcher_committed": self.committed,
            "matcher_alerts_out": total(m, "relay_events_out_total", service="matcher"),
            "matcher_latency_sum_s": total(m, "relay_match_latency_seconds_sum"),
            "matcher_latency_count": total(m, "relay_match_latency_seconds_count"),
            "ingest_accepted": total(i, "relay_ingest_events_total", outcome="accepted"),
            "ingest_unavailable": total(i, "relay_ingest_events_total", outcome="unavailable"),
            "ingest_request_sum_s": total(i, "relay_ingest_request_seconds_sum"),
            "ingest_request_count": total(i, "relay_ingest_request_seconds_count"),
            "notifier_routed": total(n, "relay_notifier_routed_total"),
            "notifier_attempts": total(n, "relay_notifier_attempts_total"),
            "notifier_pending": total(n, "relay_notifier_pending"),
        }


def delta(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """How each counter moved between two snapshots, plus mean times where they exist."""
    a, b = after.figures(), before.figures()
    out = {k: round(a[k] - b[k], 6) for k in a if k != "notifier_pending"}
    out["notifier_pending_end"] = a["notifier_pending"]
    if out["matcher_latency_count"]:
        out["matcher_mean_ms"] = round(
            1000 * out["matcher_latency_sum_s"] / out["matcher_latency_count"], 2
        )
    if out["ingest_request_count"]:
        out["ingest_request_mean_ms"] = round(
            1000 * out["ingest_request_sum_s"] / out["ingest_request_count"], 2
        )
    return out


@dataclass
class Deliveries:
    """Every webhook the receiver has got, by event id: first and last receive time."""

    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    # When the matcher created the event's first alert (epoch seconds; same machine's clock).
    alerted: dict[str, float] = field(default_factory=dict)
    count: int = 0
    _seen: set[tuple[str, float]] = field(default_factory=set)

    def add(self, recent: list[dict[str, Any]]) -> int:
        """Fold in the receiver's recent list; returns how many deliveries were new."""
        new = 0
        for item in recent:
            event_id, at = item.get("event_id"), item.get("received_at")
            if not isinstance(event_id, str) or not isinstance(at, int | float):
                continue
            key = (str(item.get("webhook_id")), float(at))
            if key in self._seen:
                continue
            self._seen.add(key)
            new += 1
            self.first[event_id] = min(self.first.get(event_id, at), at)
            created = _epoch(item.get("alert_created_at"))
            if created is not None:
                self.alerted[event_id] = min(self.alerted.get(event_id, created), created)
            self.last[event_id] = max(self.last.get(event_id, at), at)
        self.count += new
        return new


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


@dataclass
class Probe:
    client: httpx.AsyncClient
    ports: Ports
    admin: Any  # AIOKafkaAdminClient: the matcher group's committed offsets
    group: str
    topic_prefix: str
    deliveries: Deliveries = field(default_factory=Deliveries)
    rejected: int = 0
    metrics_failures: dict[str, str] = field(default_factory=dict)

    async def _metrics(self, name: str) -> Samples:
        """A service's counters; empty (and the failure noted) when /metrics does not answer."""
        try:
            response = await self.client.get(self.ports.url(name, "/metrics"), timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self.metrics_failures[name] = str(exc).splitlines()[0]
            return {}
        return parse_metrics(response.text)

    async def committed(self) -> float:
        """Events the matcher has screened and stored the alerts of (its committed offsets)."""
        offsets = await self.admin.list_consumer_group_offsets(self.group)
        events = f"{self.topic_prefix}events."
        return float(
            sum(
                m.offset
                for tp, m in offsets.items()
                if tp.topic.startswith(events) and m.offset > 0
            )
        )

    async def snapshot(self) -> Snapshot:
        matcher = await self._metrics("matcher")
        return Snapshot(
            matcher,
            await self._metrics("ingest"),
            await self._metrics("notifier"),
            await self.committed(),
        )

    async def screened(self) -> float:
        """The matcher's events_in counter, or its committed offsets if /metrics fails."""
        samples = await self._metrics("matcher")
        if samples:
            return total(samples, "relay_events_in_total", service="matcher")
        return await self.committed()

    async def poll_receiver(self) -> int:
        """New deliveries since the last poll (the receiver keeps its latest 1,000)."""
        response = await self.client.get(self.ports.url("receiver", "/received"), timeout=10)
        body = response.json()
        self.rejected = int(body.get("rejected", 0))
        return self.deliveries.add(body.get("recent", []))
