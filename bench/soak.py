"""Soak: the whole relay at SOAK_RATE events/s for SOAK_SECONDS (default 500/s, 30 minutes).

Every 10 s (SOAK_SAMPLE_S) it samples the RSS of every service process and the matcher's
consumer lag on the event topics. Memory growth per service compares the average of the last
sixth of the run (the last 5 minutes of 30) with the average of the second sixth (minutes
5-10); lag is bounded when the last sixth never lags more than 30 s of traffic. Writes
bench/results/soak.json; exits 1 when any growth is >= 10 % or lag is unbounded.

The windows scale with SOAK_SECONDS (second sixth vs last sixth), so a short run is judged
the same way. Memory of the notifier is bounded by design (open alerts + closed ones for the
memory window, capped per country), so it is flat once the first alerts have closed and left
the window; nobody acknowledges in a soak, so urgent alerts stay open until their escalation
chain is exhausted. The notifier's ack deadline and memory window are therefore scaled to the
run (at most their defaults: SECONDS/24 and SECONDS/12) so that this happens before the
second sixth; the bound, not its size, is what a soak can show.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from bench.support import bench_broker, create_topics, write_result
from schemas.topics import TopicName
from services.common.kafka import admin_client, make_consumer
from services.common.settings import CommonSettings
from tests.support.stack import RELAY, SERVICES, Stack, StackSpec, open_stack, start_all

SECONDS = float(os.environ.get("SOAK_SECONDS", "1800"))
RATE = float(os.environ.get("SOAK_RATE", "500"))
SAMPLE_S = float(os.environ.get("SOAK_SAMPLE_S", "10"))
GROWTH_LIMIT_PCT = 10.0
LAG_LIMIT_S = 30.0  # lag of more than this much traffic at the end = not keeping up
EVENT_TOPICS: tuple[TopicName, ...] = ("events.border_crossing", "events.document_check")


def log(message: str) -> None:
    sys.stderr.write(f"[soak] {message}\n")
    sys.stderr.flush()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def matcher_lag(settings: CommonSettings) -> int:
    """Events on the event topics the matcher's group has not committed yet."""
    async with admin_client(settings) as admin:
        committed = await admin.list_consumer_group_offsets(settings.group("matcher"))
    consumer = make_consumer(settings, settings.topic(EVENT_TOPICS[0]), group_id=None)
    await consumer.start()
    try:
        parts = []
        for name in EVENT_TOPICS:
            topic = settings.topic(name)
            parts += [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return sum(max(0, end - (committed[tp].offset if tp in committed else 0))
               for tp, end in ends.items())  # fmt: skip


def scaled_notifier() -> dict[str, str]:
    """Escalation chains finish, outcome deadlines pass (nobody answers: each alert reminds
    once), and closed alerts leave memory, within the first sixth."""
    return {
        "RELAY_NOTIFIER_ESCALATION_DELAY_S": str(min(300.0, SECONDS / 24)),
        "RELAY_NOTIFIER_OUTCOME_DEADLINE_S": str(min(43200.0, SECONDS / 24)),
        "RELAY_NOTIFIER_MEMORY_WINDOW_S": str(min(900.0, SECONDS / 12)),
    }


def average(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def judge(samples: list[dict[str, Any]]) -> dict[str, Any]:
    base = [s for s in samples if SECONDS / 6 <= s["t"] < SECONDS / 3]
    last = [s for s in samples if s["t"] >= SECONDS * 5 / 6]
    growth = {}
    for name in SERVICES:
        before, after = (
            average([s["rss_mb"][name] for s in base]),
            average([s["rss_mb"][name] for s in last]),
        )
        growth[name] = round(100 * (after - before) / before, 2) if before else None
    max_lag = max((s["lag"] for s in samples), default=0)
    last_lag = max((s["lag"] for s in last), default=0)
    flat = all(g is not None and g < GROWTH_LIMIT_PCT for g in growth.values())
    bounded = last_lag <= RATE * LAG_LIMIT_S
    return {"growth_pct": growth, "max_lag": max_lag, "max_lag_last_window": last_lag,
            "memory_flat": flat, "lag_bounded": bounded, "ok": flat and bounded}  # fmt: skip


async def sample(
    stack: Stack, settings: CommonSettings, traffic: subprocess.Popen[str]
) -> list[dict[str, Any]]:
    started = time.monotonic()
    samples: list[dict[str, Any]] = []
    while traffic.poll() is None:
        for name in SERVICES:
            process = stack.processes[name].process
            assert process is not None
            if process.poll() is not None:
                raise RuntimeError(f"{name} died:\n{stack.processes[name].log()}")
        rss = {n: round(rss_mb(stack.processes[n].process.pid), 1) for n in SERVICES}  # type: ignore[union-attr]
        point = {"t": round(time.monotonic() - started, 1), "rss_mb": rss,
                 "lag": await matcher_lag(settings)}  # fmt: skip
        samples.append(point)
        log(f"t={point['t']:.0f}s rss={rss} lag={point['lag']}")
        await asyncio.sleep(SAMPLE_S)  # the sampling period is the point
    return samples


def run(bootstrap: str, tmp: Path) -> dict[str, Any]:
    settings = CommonSettings(
        kafka_bootstrap=bootstrap, topic_prefix=f"soak-{uuid.uuid4().hex[:6]}."
    )
    asyncio.run(create_topics(settings))
    spec = StackSpec(bootstrap, settings.topic_prefix, persons=2000, sltd=5000,
                     env={"RELAY_LOG_LEVEL": "warning", **scaled_notifier()})  # fmt: skip
    with open_stack(spec, tmp) as stack:
        start_all(stack)
        stack.ready()
        command = [*RELAY, "simulate", "--rate", str(RATE), "--duration", str(SECONDS),
                   "--url", stack.url("ingest", ""), "--keys", str(stack.demo / "api-keys.json"),
                   "--watchlist", str(stack.demo / "demo-watchlist.jsonl")]  # fmt: skip
        log(f"{RATE:.0f} events/s for {SECONDS:.0f} s")
        with (tmp / "simulate.log").open("w") as out:
            traffic = subprocess.Popen(command, env=stack.env, stdout=out, stderr=subprocess.STDOUT,
                                       text=True)  # fmt: skip
            samples = asyncio.run(sample(stack, settings, traffic))
        summary = (tmp / "simulate.log").read_text().strip().splitlines()[-1:]
        received = stack.received()
    verdict = judge(samples)
    return {"seconds": SECONDS, "rate": RATE, "sample_s": SAMPLE_S, **verdict,
            "simulate": summary, "receiver": {k: received[k] for k in
                                              ("received", "duplicates", "rejected")},
            "samples": samples}  # fmt: skip


def main() -> int:
    with bench_broker() as bootstrap, tempfile.TemporaryDirectory(prefix="relay-soak-") as tmp:
        result = run(bootstrap, Path(tmp))
    path = write_result("soak", result)
    brief = {k: v for k, v in result.items() if k != "samples"}
    print(brief)
    log(f"written {path}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
