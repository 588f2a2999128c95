"""Evidence that nothing accepted was lost and nobody got what they must not see.

``Poster`` sends simulated traffic to ingest as an agency client would (batches, retrying
503s and refused connections with the same event ids) and keeps what was accepted (202).
``expected_alerts`` screens those events offline with the matcher's own engine
(``services.matcher.domain``) and ``expected_deliveries`` routes the alerts with the
notifier's own routing (``services.notifier.domain.routing``). ``Verdict`` compares that with
the alerts topic, the demo receiver's counts (by webhook-id) and the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

from schemas.alert import Alert
from schemas.codec import decode_alert, decode_entry, decode_event
from schemas.topics import TopicName
from services.common.settings import CommonSettings
from services.demo.simulate import SimulationSpec, Simulator
from services.matcher.domain import Screener, WatchlistIndex, entry_record, event_record, to_alert
from services.notifier.channels import webhook
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.domain.routing import recipients
from tests.support.kafka_io import TopicReader
from tests.support.stack import Stack

FINAL = {202, 403, 422}  # an item with one of these needs no resend
REPORT = Path(__file__).resolve().parents[1] / "artifacts" / "faults-report.json"


@dataclass
class Poster:
    """Posts ``count`` simulated events at about ``rate``/s; ``sent`` counts batches done."""

    stack: Stack
    count: int
    rate: float = 40.0
    seed: int = 11
    listed_share: float = 0.25
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: int = 0  # batches done
    planned: int = 0  # batches in all
    resends: int = 0

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        lines = (self.stack.demo / "demo-watchlist.jsonl").read_bytes().splitlines()
        entries = [orjson.loads(line) for line in lines]
        spec = SimulationSpec(seed=self.seed, listed_share=self.listed_share, broken_share=0)
        sim = Simulator(spec, entries)
        now = dt.datetime.now(dt.UTC)
        out = []
        for _ in range(self.count):
            item = sim.next(now)
            assert isinstance(item.value, dict)
            out.append((item.agency, item.value))
        return out

    async def run(self, batch_size: int = 10, deadline_s: float = 240) -> None:
        keys = orjson.loads((self.stack.demo / "api-keys.json").read_bytes())
        by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for agency, event in self.events():
            by_agency[agency].append(event)
        batches = [
            (agency, events[i : i + batch_size])
            for agency, events in by_agency.items()
            for i in range(0, len(events), batch_size)
        ]
        random.Random(self.seed).shuffle(batches)
        self.planned = len(batches)
        deadline = time.monotonic() + deadline_s
        async with httpx.AsyncClient(base_url=self.stack.url("ingest", ""), timeout=15) as client:
            for agency, events in batches:
                await self._send(client, keys[agency], events, deadline)
                self.sent += 1
                await asyncio.sleep(len(events) / self.rate)  # the agencies' own pace

    async def _send(
        self, client: httpx.AsyncClient, key: str, events: list[dict[str, Any]], deadline: float
    ) -> None:
        pending = list(events)
        while pending:
            assert time.monotonic() < deadline, "ingest did not take the traffic in time"
            statuses = await _post(client, key, pending)
            for event, status in zip(pending, statuses, strict=True):
                if status == 202:
                    self.accepted[event["event_id"]] = event
            pending = [e for e, s in zip(pending, statuses, strict=True) if s not in FINAL]
            if pending:
                self.resends += len(pending)
                await asyncio.sleep(0.5)  # back off as an agency client must, then resend


async def _post(client: httpx.AsyncClient, key: str, events: list[dict[str, Any]]) -> list[int]:
    """Per-item statuses; 0 for each item when the request itself failed."""
    try:
        response = await client.post(
            "/v1/events:batch",
            content=orjson.dumps({"events": events}),
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
    except httpx.HTTPError:
        return [0] * len(events)
    results = response.json().get("results") if response.content else None
    if isinstance(results, list) and len(results) == len(events):
        return [int(r.get("status", 0)) for r in results]
    return [response.status_code if response.status_code in FINAL else 0] * len(events)


def load_index(watchlist: Path) -> WatchlistIndex:
    index = WatchlistIndex()
    for line in watchlist.read_bytes().splitlines():
        if line.strip():
            index.upsert(entry_record(decode_entry(line)))
    return index


async def canonical_events(
    settings: CommonSettings, ids: set[str], within_s: float = 30
) -> dict[str, bytes]:
    """The canonical events ingest published for ``ids`` (each should be there)."""
    found: dict[str, bytes] = {}
    topics: tuple[TopicName, TopicName] = ("events.border_crossing", "events.document_check")
    async with (
        TopicReader(settings, settings.topic(topics[0])) as one,
        TopicReader(settings, settings.topic(topics[1])) as other,
    ):
        deadline = time.monotonic() + within_s
        while not ids <= set(found) and time.monotonic() < deadline:
            for reader in (one, other):
                batch = await reader.consumer.getmany(timeout_ms=300)
                for records in batch.values():
                    for record in records:
                        event_id = orjson.loads(record.value)["event_id"] if record.value else None
                        if event_id in ids:
                            found[event_id] = record.value
    return found


def expected_alerts(index: WatchlistIndex, events: dict[str, bytes]) -> dict[str, Alert]:
    screener = Screener(index)
    now = dt.datetime.now(dt.UTC)
    alerts: dict[str, Alert] = {}
    for raw in events.values():
        for match in screener.screen(event_record(decode_event(raw))):
            alert = to_alert(match, now)
            alerts[alert.alert_id] = alert
    return alerts


def load_directory(demo: Path) -> Directory:
    raw = yaml.safe_load((demo / "contact-points.yaml").read_text("utf-8"))
    return Directory.parse(raw, SPECS)


def expected_deliveries(alerts: dict[str, Alert], directory: Directory) -> set[tuple[str, str]]:
    """(alert_id, receiver path segment) for every entitled webhook recipient."""
    pairs: set[tuple[str, str]] = set()
    for alert in alerts.values():
        for cp in recipients(alert, directory):
            hook = webhook.SPEC.value_of(cp)
            if hook is not None:
                pairs.add((alert.alert_id, hook.url.rstrip("/").rsplit("/", 1)[-1]))
    return pairs


@dataclass
class Verdict:
    """The figures of one fault run; ``problems`` must be empty."""

    name: str
    faults: int = 0
    events_accepted: int = 0
    resends: int = 0
    alerts_expected: int = 0
    alerts_seen: int = 0
    alerts_lost: int = 0
    alerts_unexpected: int = 0
    deliveries_expected: int = 0
    deliveries_seen: int = 0
    deliveries_lost: int = 0
    forbidden_deliveries: int = 0
    same_id_retries: int = 0
    duplicates: int = 0
    rejected_signatures: int = 0
    audit_missing: int = 0
    # Which ones, and the audit actions found for each (to tell how the record went missing).
    audit_gaps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, what: str, bad: int) -> None:
        if bad:
            self.problems.append(f"{what}: {bad}")

    def save(self) -> None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        report = orjson.loads(REPORT.read_bytes()) if REPORT.exists() else {}
        runs = report.setdefault("runs", {})
        runs[self.name] = {**asdict(self), "at": dt.datetime.now(dt.UTC).isoformat()}
        keys = ("faults", "events_accepted", "alerts_expected", "alerts_lost", "duplicates")
        report["totals"] = {k: sum(r.get(k, 0) for r in runs.values()) for k in keys}
        REPORT.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        line = " ".join(f"{k}={v}" for k, v in asdict(self).items() if k != "problems")
        print(f"FAULTS {line} problems={self.problems or 'none'}")


async def seen_alerts(settings: CommonSettings, want: set[str], within_s: float) -> set[str]:
    async with TopicReader(settings, settings.topic("alerts")) as reader:
        with contextlib.suppress(TimeoutError):  # what is missing is counted by the caller
            await reader.until(lambda r: want <= _alert_ids(r), within_s)
        return _alert_ids(reader.records)


def _alert_ids(records: list[Any]) -> set[str]:
    return {decode_alert(r.value).alert_id for r in records if r.value is not None}


def receiver_snapshot(summaries: list[dict[str, Any]]) -> tuple[Counter[str], list[dict[str, Any]]]:
    """Webhook-id counts and deliveries over receiver runs (a restart starts it at zero)."""
    counts: Counter[str] = Counter()
    recent: list[dict[str, Any]] = []
    for summary in summaries:
        counts.update(summary["by_id"])
        recent += summary["recent"]
        assert summary["received"] < 1000, "more deliveries than the receiver's recent list keeps"
    return counts, recent


def judge_deliveries(
    verdict: Verdict, want: dict[str, Alert], pairs: set[tuple[str, str]], summary: dict[str, Any]
) -> set[str]:
    """Fill the delivery figures; returns the webhook ids (= notification ids) delivered."""
    counts, recent = receiver_snapshot([summary])
    seen_pairs = {(d["alert_id"], d["path"]) for d in recent if d.get("alert_id")}
    verdict.deliveries_expected = len(pairs)
    verdict.deliveries_seen = len(seen_pairs & pairs)
    verdict.deliveries_lost = len(pairs - seen_pairs)
    verdict.forbidden_deliveries = len({p for p in seen_pairs - pairs if p[0] in want})
    verdict.alerts_unexpected += len({a for a, _ in seen_pairs if a not in want})
    verdict.same_id_retries = sum(n - 1 for n in counts.values())
    ids_per_delivery: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for d in recent:
        ids_per_delivery[(d.get("alert_id") or "", d["path"], d.get("type") or "")].add(
            d["webhook_id"]
        )
    verdict.duplicates = sum(len(ids) - 1 for ids in ids_per_delivery.values())
    verdict.rejected_signatures = int(summary["rejected"])
    return set(counts)


async def judge_audit(
    verdict: Verdict, settings: CommonSettings, want: set[str], delivered: set[str]
) -> None:
    """Every alert routed, every delivered notification recorded as delivered."""

    def gaps(records: list[Any]) -> list[str]:
        routed, done = set(), set()
        actions: dict[str, list[str]] = defaultdict(list)
        for r in records:
            audit = orjson.loads(r.value)
            actions[audit.get("notification_id")].append(audit["action"])
            if audit["action"] == "routed":
                routed.add(audit["alert_id"])
            elif audit["action"] == "delivered":
                done.add(audit.get("notification_id"))
        unrouted = [f"{alert_id} never routed" for alert_id in sorted(want - routed)]
        undone = [f"{nid} delivered, audited {actions[nid]}" for nid in sorted(delivered - done)]
        return unrouted + undone

    async with TopicReader(settings, settings.topic("notifications.audit")) as reader:
        with contextlib.suppress(TimeoutError):
            await reader.until(lambda r: not gaps(r), 30)
        found = gaps(reader.records)
        verdict.audit_missing, verdict.audit_gaps = len(found), found[:10]


async def wait_delivered(stack: Stack, pairs: set[tuple[str, str]], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        summary = await asyncio.to_thread(stack.received)
        recent = summary["recent"]
        assert isinstance(recent, list)
        if pairs <= {(d["alert_id"], d["path"]) for d in recent if d.get("alert_id")}:
            return
        await asyncio.sleep(0.5)  # polling the receiver's counters, bounded by the deadline


async def verify(
    verdict: Verdict, stack: Stack, settings: CommonSettings, poster: Poster, within_s: float
) -> Verdict:
    """Everything accepted came out as exactly its alerts, delivered and audited."""
    verdict.events_accepted, verdict.resends = len(poster.accepted), poster.resends
    events = await canonical_events(settings, set(poster.accepted))
    verdict.check("accepted events missing from events.*", len(poster.accepted) - len(events))
    want = expected_alerts(load_index(stack.demo / "demo-watchlist.jsonl"), events)
    verdict.alerts_expected = len(want)
    seen = await seen_alerts(settings, set(want), within_s)
    verdict.alerts_seen = len(seen & set(want))
    verdict.alerts_lost = len(set(want) - seen)
    verdict.alerts_unexpected = len(seen - set(want))
    pairs = expected_deliveries(want, load_directory(stack.demo))
    await wait_delivered(stack, pairs, within_s)
    delivered = judge_deliveries(verdict, want, pairs, await asyncio.to_thread(stack.received))
    await judge_audit(verdict, settings, set(want), delivered)
    for what in ("alerts_lost", "alerts_unexpected", "deliveries_lost", "forbidden_deliveries",
                 "duplicates", "rejected_signatures", "audit_missing"):  # fmt: skip
        verdict.check(what, getattr(verdict, what))
    return verdict
