"""Matcher throughput with 1 and with 2 replicas on one broker, for the failover benchmark.

A backlog of simulated events (repeated under new event ids: simulating is slower than
screening) is stored on topics of its own before the replicas start; the rate counts from the
moment every replica is screening until 90% of the backlog is screened (the replicas'
``relay_events_in_total`` on the event topics), with the cores each replica used meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.e2e_drive import generate
from bench.e2e_probe import parse_metrics
from bench.failover_stack import FailoverStack
from bench.support import cpu_seconds, create_topics
from schemas.topics import TopicName
from services.cli.simulate_cmd import read_watchlist
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.demo.simulate import SimulationSpec, Simulator

BACKLOG = int(os.environ.get("BENCH_FAILOVER_BACKLOG", "150000"))
SPEC = SimulationSpec(seed=26, listed_share=0.02, broken_share=0.0)
CONSOLE = sys.stderr  # while the failover phase sends, sys.stderr is its log file


def log(message: str) -> None:
    CONSOLE.write(f"[bench-failover] {message}\n")
    CONSOLE.flush()


def tag() -> str:
    return uuid.uuid4().hex[:6]


def topic_of(event: dict[str, Any]) -> TopicName:
    return (
        "events.document_check"
        if event.get("type") == "document_check"
        else ("events.border_crossing")
    )


def backlog(sim: Simulator, settings: CommonSettings) -> list[tuple[str, bytes, bytes]]:
    """BACKLOG events as (topic, key, value): simulated ones, repeated under new event ids
    (simulating is slower than screening)."""
    made = [g.value for g in generate(sim, min(BACKLOG, 20_000)) if isinstance(g.value, dict)]
    out = []
    for n in range(BACKLOG):
        event = {**made[n % len(made)], "event_id": str(uuid.uuid4())}
        out.append(
            (settings.topic(topic_of(event)), event["event_id"].encode(), orjson.dumps(event))
        )
    return out


async def matcher_throughput(
    bootstrap: str, workdir: Path, replicas: int
) -> tuple[float, list[float]]:
    """Events/s that ``replicas`` matchers screen of a backlog, on topics of their own, and
    the cores each of them used meanwhile.

    The backlog is stored before the replicas start; the rate counts from the moment every
    replica is screening until 90% of the backlog is screened.
    """
    settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"tp{replicas}-{tag()}.")
    await create_topics(settings)
    stack = FailoverStack(settings, workdir / f"tp{replicas}", replicas,
                          env={"RELAY_MATCHER_RETRO_ENABLED": "false"})  # fmt: skip
    stack.workdir.mkdir()
    entries = stack.init()
    records = backlog(Simulator(SPEC, read_watchlist(stack.demo.watchlist)), settings)
    async with make_producer(settings, linger_ms=5) as producer:
        futures = [await producer.send(t, value, key=key) for t, key, value in records]
        await asyncio.gather(*futures)
    try:
        await asyncio.to_thread(stack.load_watchlist)
        stack.start(("matcher",))
        rate, cores = await _screening_rate(stack, len(records), entries)
    finally:
        await asyncio.to_thread(stack.stop)
    log(f"{replicas} matcher(s): {rate:.0f} events/s screened, cores used {cores}")
    return round(rate, 1), cores


async def _screening_rate(
    stack: FailoverStack, total: int, entries: int
) -> tuple[float, list[float]]:
    """Events/s the replicas screen together, from when all of them are screening until 90%
    of ``total`` is done, and the cores each replica used meanwhile."""
    prefix = f"{stack.settings.topic_prefix}events."
    matchers = stack.of("matcher")

    async def screened() -> tuple[float, list[float]]:
        urls = [r.url("/metrics") for r in matchers]
        counts = await asyncio.gather(*(asyncio.to_thread(_counter, u, prefix) for u in urls))
        return time.monotonic(), counts

    def cpu() -> list[float]:
        return [cpu_seconds(r.child.process.pid) for r in matchers if r.child.process]

    await asyncio.to_thread(stack.wait_ready, "matcher", entries)
    deadline = time.monotonic() + 600
    began, before, cpu_before = 0.0, 0.0, [0.0]
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the matchers did not screen the backlog in 600 s")
        stack.check_alive()
        at, counts = await screened()
        if not began and all(counts):
            began, before, cpu_before = at, sum(counts), cpu()
            if before > 0.5 * total:
                log(f"{before:.0f} of {total} events were screened before all replicas were")
        if began and sum(counts) >= 0.9 * total:
            cores = [
                round((b - a) / (at - began), 2) for a, b in zip(cpu_before, cpu(), strict=True)
            ]
            return (sum(counts) - before) / (at - began), cores
        await asyncio.sleep(0.1)  # sampling the replicas' counters


def _counter(url: str, prefix: str) -> float:
    """A matcher's events screened so far (records in from the event topics); 0 before its
    HTTP server answers."""
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return 0.0
    return sum(
        value
        for (name, labels), value in parse_metrics(text).items()
        if name == "relay_events_in_total" and dict(labels).get("topic", "").startswith(prefix)
    )
