"""Streaming matcher benchmark: events/s per process, its ratio to a plain aiokafka
consume -> produce loop on the same broker in the same run, and p99 event -> alert latency at
1,000 events/s. Uses the screening-dev watchlist (25,000 entries) and its events, re-keyed.

Run: ``make bench-matcher`` (with bench_screen's load/RSS/screen figures). Prints one JSON
object as its last line.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.support import (
    bench_broker,
    create_topics,
    free_port,
    passthrough,
    percentile,
    write_result,
)
from services.common.kafka import admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "screening-dev"
BACKLOG = int(os.environ.get("BENCH_MATCHER_EVENTS", "50000"))
RATE = 1000
RATE_SECONDS = 10


def load_lines(name: str) -> list[bytes]:
    return [line for line in (DATA / name).read_bytes().splitlines() if line.strip()]


def rekeyed(events: list[dict[str, Any]], count: int) -> list[tuple[bytes, bytes]]:
    out = []
    for index in range(count):
        event = dict(events[index % len(events)])
        event["event_id"] = str(uuid.uuid4())
        out.append((event["event_id"].encode(), orjson.dumps(event)))
    return out


async def produce(settings: CommonSettings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    async with make_producer(settings, linger_ms=5) as producer:
        futures = [await producer.send(topic, value, key=key) for key, value in items]
        await asyncio.gather(*futures)


async def committed_total(settings: CommonSettings, group: str) -> int:
    async with admin_client(settings) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def start_matcher(settings: CommonSettings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_MATCHER_HTTP_PORT": str(port),
        "RELAY_MATCHER_COMMIT_INTERVAL_S": "0.2",
        "RELAY_MATCHER_RETRO_ENABLED": "false",
        "RELAY_LOG_LEVEL": "warning",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.matcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _profile_args() -> list[str]:
    target = os.environ.get("BENCH_PROFILE")
    return ["-m", "cProfile", "-o", target] if target else []


async def wait_ready(port: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("matcher not ready")


async def throughput(settings: CommonSettings, total: int) -> float:
    group = f"{settings.topic_prefix}matcher"
    started = 0.0
    while True:
        done = await committed_total(settings, group)
        if done and not started:
            started = time.perf_counter()
            first = done
        if done >= total:
            return (done - first) / (time.perf_counter() - started)
        await asyncio.sleep(0.1)


async def latency(settings: CommonSettings, events: list[dict[str, Any]]) -> dict[str, float]:
    """Pace events at RATE/s for RATE_SECONDS; latency = alert create time - event create time."""
    topic = settings.topic("events.border_crossing")
    sent_at: dict[str, int] = {}
    consumer = make_consumer(settings, settings.topic("alerts"), group_id=None,
                             auto_offset_reset="latest")  # fmt: skip
    async with consumer, make_producer(settings, linger_ms=0) as producer:
        await consumer.getmany(timeout_ms=500)  # join at the end before sending
        items = rekeyed(events, RATE * RATE_SECONDS)
        begin = time.perf_counter()
        futures = []
        for index, (key, value) in enumerate(items):
            target = begin + index / RATE
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            futures.append(await producer.send(topic, value, key=key))
        metadata = await asyncio.gather(*futures)
        for (key, _), meta in zip(items, metadata, strict=True):
            sent_at[key.decode()] = meta.timestamp
        latencies: list[float] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    alert = orjson.loads(record.value)
                    if alert["event_id"] in sent_at:
                        latencies.append(record.timestamp - sent_at[alert["event_id"]])
            if not batch and latencies:
                break
    return {
        "alerts": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else float("nan"),
    }


async def run(bootstrap: str) -> dict[str, Any]:
    settings = CommonSettings(
        kafka_bootstrap=bootstrap, topic_prefix=f"bench-{uuid.uuid4().hex[:6]}."
    )
    await create_topics(settings)
    watchlist = load_lines("watchlist.jsonl")
    entries = [(orjson.loads(line)["entry_id"].encode(), line) for line in watchlist]
    await produce(settings, settings.topic("watchlist.entries"), entries)
    events = [orjson.loads(line) for line in load_lines("events.jsonl")]
    backlog = rekeyed(events, BACKLOG)
    await produce(settings, settings.topic("events.border_crossing"), backlog)

    limit = await passthrough(
        settings, settings.topic("events.border_crossing"), settings.topic("events.dlq"), BACKLOG
    )
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = start_matcher(settings, port, Path(tmp) / "matcher.log")
        try:
            await wait_ready(port)
            rate = await throughput(settings, BACKLOG)
            lat = await latency(settings, events)
        finally:
            process.terminate()
            process.wait(30)
    return {
        "streaming_events_per_s": round(rate),
        "passthrough_events_per_s": round(limit),
        "ratio_to_passthrough": round(rate / limit, 3),
        "latency_at_1000_per_s": lat,
        "backlog_events": BACKLOG,
        "watchlist_entries": len(entries),
    }


def main() -> None:
    with bench_broker() as bootstrap:
        result = asyncio.run(run(bootstrap))
    write_result("matcher_stream", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
