"""Shared pieces of the benchmarks: a throw-away broker, percentiles, the passthrough limit."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from schemas.topics import load_catalogue
from services.common.kafka import admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings
from services.tooling.kafka_local import LocalBroker, LocalBrokerSettings
from services.tooling.topics import apply_catalogue

RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def bench_broker() -> Iterator[str]:
    """RELAY_KAFKA_BOOTSTRAP if set, else a fresh local broker for this run."""
    external = os.environ.get("RELAY_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as data:
        broker = LocalBroker(
            LocalBrokerSettings(
                kafka_local_port=free_port(),
                kafka_local_controller_port=free_port(),
                kafka_local_data_dir=Path(data),
            )
        )
        broker.start()
        try:
            yield broker.bootstrap
        finally:
            broker.stop()


async def create_topics(settings: CommonSettings) -> None:
    async with admin_client(settings) as admin:
        await apply_catalogue(admin, load_catalogue(), settings.topic_prefix)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def passthrough(settings: CommonSettings, source: str, sink: str, count: int) -> float:
    """The stack's limit: a plain aiokafka consume -> produce loop (acks=all, commit per batch),
    over ``count`` records already on ``source``. Returns records per second."""
    consumer = make_consumer(settings, source, group_id=f"{settings.topic_prefix}passthrough")
    producer = make_producer(settings)
    async with consumer, producer:
        seen = 0
        started = 0.0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            if not batch:
                continue
            if not started:
                started = time.perf_counter()
            futures = [
                await producer.send(sink, r.value, key=r.key)
                for records in batch.values()
                for r in records
            ]
            await asyncio.gather(*futures)
            await consumer.commit()
            seen += len(futures)
        return seen / (time.perf_counter() - started)


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (psutil is not a dependency)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
