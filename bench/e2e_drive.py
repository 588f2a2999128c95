"""One rate step of the end-to-end benchmark: simulated traffic into ingest's batch endpoint at
a fixed rate, then wait until the matcher has screened every accepted event and the receiver
has stopped getting webhooks; measure throughput, lag and event -> webhook latency."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.e2e_probe import Probe, delta
from bench.support import percentile
from services.demo.send import Pace, Run, Tally, batch_tally
from services.demo.simulate import Generated, Simulator, Sort

LISTED = (Sort.LISTED_PERSON, Sort.LISTED_DOCUMENT)
BATCH_SIZE = 500
CONCURRENCY = 32
TICK_S = 0.1  # batches leave ten times a second, one per agency with traffic
POLL_S = 0.25
DRAIN_TIMEOUT_S = 60.0
QUIET_S = 1.5  # no new webhook for this long after the matcher drained: the step is over


@dataclass
class TimedSink:
    """Posts batches to ingest and notes when ingest accepted each listed event.

    aiohttp, not httpx: the driver shares the machine's 2 cores with the relay, and a profile
    of a 1,000 events/s step put 97% of its CPU (about half a core) in httpx's request path.
    """

    client: aiohttp.ClientSession
    keys: dict[str, str]
    accepted_at: dict[str, float] = field(default_factory=dict)

    async def send(self, agency: str, batch: list[Generated]) -> Tally:
        body = b'{"events":[' + b",".join(orjson.dumps(item.value) for item in batch) + b"]}"
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {self.keys[agency]}",
        }
        try:
            async with self.client.post("/v1/events:batch", data=body, headers=headers) as answer:
                status, content = answer.status, await answer.read()
        except (aiohttp.ClientError, TimeoutError):
            return Tally(sent=len(batch), errors=len(batch))
        if status < 300:
            self.note(batch, orjson.loads(content).get("results", []), time.time())
        return batch_tally(status, content, len(batch))

    def note(self, batch: list[Generated], results: list[dict[str, Any]], at: float) -> None:
        """When ingest accepted the listed events of the batch."""
        listed = {i: item.event_id for i, item in enumerate(batch) if item.sort in LISTED}
        for result in results:
            event_id = listed.get(result.get("index", -1))
            if event_id and result.get("status") == 202:
                self.accepted_at[event_id] = at


@dataclass(frozen=True)
class StepPlan:
    rate: int
    duration_s: float


@dataclass
class StepContext:
    probe: Probe
    simulator: Simulator
    ingest_url: str
    keys: dict[str, str]
    log: Path
    cpu: Callable[[], dict[str, float]]  # CPU seconds so far, by process


def generate(sim: Simulator, count: int) -> list[Generated]:
    """Events made before the step, so generating them costs the sender nothing."""
    now = dt.datetime.now(dt.UTC)
    return [sim.next(now) for _ in range(count)]


@dataclass
class Series:
    """Matcher lag (events accepted but not yet screened) sampled during sending."""

    points: list[tuple[float, float]] = field(default_factory=list)

    def growing(self, rate: float) -> bool:
        """Lag above one second of traffic at the end and higher than halfway through."""
        if len(self.points) < 4:
            return False
        mid = self.points[len(self.points) // 2][1]
        end = self.points[-1][1]
        return end > rate and end > 1.2 * mid


async def _monitor(ctx: StepContext, run: Run, base: float, series: Series, start: float) -> None:
    while True:
        await asyncio.sleep(POLL_S)  # sampling period of the lag series
        screened = await ctx.probe.screened() - base
        series.points.append((time.time() - start, run.total.accepted - screened))
        await ctx.probe.poll_receiver()


async def _drain(ctx: StepContext, base: float, accepted: int, events: set[str]) -> float:
    """Wall time when the matcher had screened everything and the webhooks stopped coming."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    drained = 0.0
    while time.monotonic() < deadline:
        if await ctx.probe.screened() - base >= accepted:
            drained = time.time()
            break
        await ctx.probe.poll_receiver()
        await asyncio.sleep(0.1)  # polling the matcher's counter
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_S:
        if await ctx.probe.poll_receiver():
            quiet_since = time.monotonic()
        await asyncio.sleep(0.2)  # polling the receiver
    last = [ctx.probe.deliveries.last[e] for e in events if e in ctx.probe.deliveries.last]
    return max([drained or time.time(), *last])


def _latency(sink: TimedSink, probe: Probe) -> dict[str, Any]:
    first = probe.deliveries.first
    last = probe.deliveries.last
    got = [e for e in sink.accepted_at if e in first]
    to_first = [1000 * (first[e] - sink.accepted_at[e]) for e in got]
    to_last = [1000 * (last[e] - sink.accepted_at[e]) for e in got]
    # The two halves: ingest's answer -> the matcher's alert, and that alert -> first webhook.
    alerted = probe.deliveries.alerted
    split = [e for e in got if e in alerted]
    to_alert = [1000 * (alerted[e] - sink.accepted_at[e]) for e in split]
    to_webhook = [1000 * (first[e] - alerted[e]) for e in split]
    return {
        "listed_accepted": len(sink.accepted_at),
        "listed_delivered": len(got),
        "p50_ms": round(percentile(to_first, 50), 1),
        "p90_ms": round(percentile(to_first, 90), 1),
        "p99_ms": round(percentile(to_first, 99), 1),
        "max_ms": round(max(to_first), 1) if to_first else float("nan"),
        "p99_last_webhook_ms": round(percentile(to_last, 99), 1),
        "p50_to_alert_ms": round(percentile(to_alert, 50), 1),
        "p99_to_alert_ms": round(percentile(to_alert, 99), 1),
        "p50_alert_to_webhook_ms": round(percentile(to_webhook, 50), 1),
        "p99_alert_to_webhook_ms": round(percentile(to_webhook, 99), 1),
    }


async def run_step(ctx: StepContext, plan: StepPlan) -> dict[str, Any]:
    items = generate(ctx.simulator, int(plan.rate * plan.duration_s))
    events = {item.event_id for item in items if item.event_id}
    queue = iter(items)

    def produce() -> tuple[str, Generated]:
        item = next(queue)
        return item.agency, item

    pace = Pace(plan.rate, None, len(items), BATCH_SIZE, CONCURRENCY, TICK_S)
    run = Run(pace, produce=produce)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=30.0)
    before = await ctx.probe.snapshot()
    cpu_before, cpu_at = ctx.cpu(), time.time()
    series = Series()
    session = aiohttp.ClientSession(ctx.ingest_url, connector=connector, timeout=timeout)
    async with session as client:
        sink = TimedSink(client, ctx.keys)
        start = time.time()
        monitor = asyncio.create_task(_monitor(ctx, run, before.screened, series, start))
        with ctx.log.open("a") as log, contextlib.redirect_stderr(log):
            elapsed = await run.run(sink)
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)
    end = await _drain(ctx, before.screened, run.total.accepted, events)
    after = await ctx.probe.snapshot()
    e2e_s = end - start
    cpu_after, cpu_s = ctx.cpu(), time.time() - cpu_at
    used = {k: v - cpu_before.get(k, v) for k, v in cpu_after.items()}
    per_event = {k: round(1000 * v / max(run.total.accepted, 1), 3) for k, v in used.items()}
    return {
        "offered_per_s": plan.rate,
        "events": len(items),
        "planned_s": plan.duration_s,
        "send_s": round(elapsed, 3),
        "sent_per_s": round(run.total.sent / elapsed, 1),
        "accepted": run.total.accepted,
        "accepted_per_s": round(run.total.accepted / elapsed, 1),
        "rejected": run.total.rejected,
        "errors": run.total.errors,
        "e2e_s": round(e2e_s, 3),
        "sustained_per_s": round(run.total.accepted / e2e_s, 1),
        "lag_end_of_send": series.points[-1][1] if series.points else None,
        "lag_max": max((p[1] for p in series.points), default=None),
        "lag_growing": series.growing(plan.rate),
        "sorts": dict(run.sorts),
        "latency": _latency(sink, ctx.probe),
        "counters": delta(before, after),
        "cpu_cores": {k: round(v / cpu_s, 2) for k, v in used.items()},  # by process
        "cpu_ms_per_event": per_event,  # CPU time per accepted event: where the time goes
    }


def saturated(step: dict[str, Any]) -> bool:
    """Ingest takes less than 95% of what is offered (answers fewer, or so slowly that the
    sender falls behind its schedule), or the matcher falls further and further behind."""
    taken = step["accepted"] + step["rejected"]
    behind = step["send_s"] > 1.05 * step["planned_s"] + 0.5  # 0.5 s: the last answers
    return bool(taken < 0.95 * step["events"] or behind or step["lag_growing"])
