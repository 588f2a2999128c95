"""What the failover benchmark watches while it runs: every alert on the alerts topic (with its
partition) and every webhook the demo receiver got (with its webhook-id and receive time), and
the figures made of them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from services.common.kafka import make_consumer
from services.common.settings import CommonSettings

POLL_S = 0.5  # the receiver keeps its latest 1,000 deliveries: far more than arrive in this


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    path: str  # the recipient (its webhook path segment)
    type: str  # the notice: a new alert, an escalation, ...
    alert_id: str
    event_id: str
    at: float  # received (epoch seconds)


@dataclass(frozen=True)
class Kill:
    name: str
    at: float  # epoch seconds
    partitions: frozenset[int]  # of alerts (a notifier) or the event topics (a matcher)


@dataclass
class Watch:
    """Alerts seen on the topic and webhooks seen at the receiver, folded in as they come."""

    settings: CommonSettings
    receiver_url: str
    alert_partition: dict[str, int] = field(default_factory=dict)  # alert id -> partition
    alerts_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # event ->
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: int = 0
    _seen: set[tuple[str, float]] = field(default_factory=set)

    async def read_alerts(self) -> None:
        """The alerts topic from its beginning, until cancelled."""
        consumer = make_consumer(self.settings, self.settings.topic("alerts"), group_id=None)
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        if record.value is None:
                            continue
                        alert = orjson.loads(record.value)
                        self.alert_partition[alert["alert_id"]] = record.partition
                        self.alerts_of[alert["event_id"]].add(alert["alert_id"])
        finally:
            await consumer.stop()

    async def poll_receiver(self, client: httpx.AsyncClient) -> int:
        """Fold in the receiver's recent deliveries; returns how many were new."""
        body = (await client.get(f"{self.receiver_url}/received", timeout=10)).json()
        self.rejected = int(body.get("rejected", 0))
        new = 0
        for item in body.get("recent", []):
            key = (str(item.get("webhook_id")), float(item.get("received_at", 0)))
            if key in self._seen or not item.get("alert_id"):
                continue
            self._seen.add(key)
            self.deliveries.append(
                Delivery(key[0], str(item.get("path")), str(item.get("type")),
                         str(item["alert_id"]), str(item.get("event_id")), key[1])
            )  # fmt: skip
            new += 1
        return new

    async def poll_forever(self) -> None:
        async with httpx.AsyncClient() as client:
            while True:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    await self.poll_receiver(client)
                await asyncio.sleep(POLL_S)  # the receiver's list is read, not pushed

    def first_delivery(self) -> dict[str, float]:
        """Alert id -> when its first webhook arrived."""
        first: dict[str, float] = {}
        for d in self.deliveries:
            first[d.alert_id] = min(first.get(d.alert_id, d.at), d.at)
        return first

    def undelivered(self, events: Iterable[str]) -> set[str]:
        """Of ``events``, those with an alert on the topic that no webhook has brought."""
        delivered = self.first_delivery()
        return {e for e in events if any(a not in delivered for a in self.alerts_of.get(e, ()))}


def duplicates(deliveries: list[Delivery], alerts: set[str]) -> dict[str, int]:
    """Second webhook-ids for one (alert, recipient, notice), and re-sends of one webhook-id."""
    ids: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    copies: dict[str, int] = defaultdict(int)
    for d in deliveries:
        if d.alert_id in alerts:
            ids[(d.alert_id, d.path, d.type)].add(d.webhook_id)
            copies[d.webhook_id] += 1
    return {
        "duplicate_deliveries": sum(len(w) - 1 for w in ids.values()),
        "resent_same_webhook_id": sum(n - 1 for n in copies.values()),
    }


def takeover(watch: Watch, kill: Kill) -> dict[str, Any]:
    """SIGKILL of a notifier -> the first delivery of an alert of its partitions (by their new
    owner: the killed one is gone), and -> the last of its partitions served again."""
    firsts: dict[int, float] = {}
    for d in watch.deliveries:
        partition = watch.alert_partition.get(d.alert_id)
        if partition in kill.partitions and d.at > kill.at:
            firsts[partition] = min(firsts.get(partition, d.at), d.at)
    if not firsts:
        return {"takeover_s": None, "takeover_all_partitions_s": None, "partitions_served": 0}
    return {
        "takeover_s": round(min(firsts.values()) - kill.at, 2),
        "takeover_all_partitions_s": round(max(firsts.values()) - kill.at, 2),
        "partitions_served": f"{len(firsts)}/{len(kill.partitions)}",
    }


def delays(watch: Watch, accepted_at: dict[str, float], around: float) -> dict[str, Any]:
    """Event accepted by ingest -> its first alert's first webhook, over every alerted event;
    the worst of them, and the worst of events accepted within 30 s after ``around``."""
    first = watch.first_delivery()
    found: dict[str, float] = {}
    for event, alerts in watch.alerts_of.items():
        if event in accepted_at:
            arrived = [first[a] for a in alerts if a in first]
            if arrived:
                found[event] = min(arrived) - accepted_at[event]
    ordered = sorted(found.values())
    near = [v for e, v in found.items() if around - 5 <= accepted_at[e] <= around + 30]
    return {
        "max_alert_delay_s": round(ordered[-1], 2) if ordered else None,
        "max_alert_delay_near_kill_s": round(max(near), 2) if near else None,
        "p50_alert_delay_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
        "p99_alert_delay_s": round(ordered[int(0.99 * (len(ordered) - 1))], 3) if ordered else None,
        "alerted_events_delivered": len(found),
    }


async def wait_for(check: Any, timeout_s: float, period_s: float = 0.5) -> bool:
    """Until ``check()`` (sync or async) is true; False after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(period_s)  # polling processes that do not tell
    return False
