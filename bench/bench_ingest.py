"""Ingest throughput and latency through real HTTP into the real broker.

Starts its own throw-away broker (unless RELAY_KAFKA_BOOTSTRAP is set), the ingest server in
this process, and measures:
- accepted events/s through POST /v1/events (concurrent single events),
- accepted events/s through POST /v1/events:batch (batches of 500),
- p50/p99 latency of single events sent at a fixed rate (500 events/s), once the broker is warm.

The fixed-rate phase runs twice. The first 10 s are the broker's warm-up for one-event produce
requests: its JIT compiles that path then (measured: C2 compiler threads 3.9 s of CPU and
request handlers 3.1 s in those 10 s, against 0.05 s once compiled), which is the start of a
fresh broker, not ingest. That run is reported as ``cold_p99_ms``; the second gives p50/p99.
The last line printed is one JSON object with the figures (also saved in bench/results/).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from schemas.topics import load_catalogue
from services.common import gcpolicy
from services.common.kafka import admin_client
from services.common.settings import REPO_ROOT, CommonSettings
from services.ingest.domain.agencies import hash_key
from services.ingest.synthetic import make_event
from services.tooling.kafka_local import LocalBroker
from services.tooling.topics import apply_catalogue
from tests.support.broker import free_port, local_broker_settings

KEY = "bench-key-0123456789abcdef"
FIXED_RATE = 500
TARGET_BATCH_PER_S = 5000
TARGET_P99_MS = 20.0


class Connection:
    """A minimal keep-alive HTTP/1.1 client: a load generator must cost less than the server.

    (httpx spends more CPU per request than ingest does, which on two cores measures httpx.)
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: ingest\r\nX-API-Key: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the idle connection")
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Pool:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        while self.idle:  # uvicorn closes connections idle for 5 s: skip those
            connection = self.idle.pop()
            try:
                result = await connection.post(path, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                connection.close()
                continue
            self.idle.append(connection)
            return result
        connection = await Connection.open(self.port)
        result = await connection.post(path, body)
        self.idle.append(connection)
        return result

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


def events(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    return [make_event(rng) for _ in range(count)]


async def single_throughput(client: Pool, count: int, concurrency: int) -> float:
    bodies = [orjson.dumps(e) for e in events(count, 1)]
    queue = iter(bodies)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        for body in queue:
            status, _ = await client.post("/v1/events", body)
            accepted += status == 202

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted / (time.perf_counter() - start)


async def batch_throughput(client: Pool, count: int, size: int) -> float:
    all_events = events(count, 2)
    bodies = [orjson.dumps({"events": all_events[i : i + size]}) for i in range(0, count, size)]
    queue = iter(bodies)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        for body in queue:
            _, answer = await client.post("/v1/events:batch", body)
            accepted += orjson.loads(answer)["accepted"]

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(4)))
    return accepted / (time.perf_counter() - start)


async def fixed_rate_latency(client: Pool, seconds: float) -> tuple[list[float], int]:
    """Send one event every 1/FIXED_RATE s (open loop); time each answer, count refusals."""
    bodies = [orjson.dumps(e) for e in events(int(FIXED_RATE * seconds), 3)]
    latencies: list[float] = []
    failures = 0

    async def one(body: bytes) -> None:
        nonlocal failures
        start = time.perf_counter()
        status, _ = await client.post("/v1/events", body)
        latencies.append(time.perf_counter() - start)
        failures += status != 202

    tasks = []
    begin = time.perf_counter()
    for index, body in enumerate(bodies):
        delay = begin + index / FIXED_RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    return latencies, failures


def note(text: str) -> None:
    sys.stderr.write(f"bench-ingest: {text}\n")


async def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            async with httpx.AsyncClient() as client:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("ingest did not become ready")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1]


async def measure(bootstrap: str, workdir: Path) -> dict[str, Any]:
    base = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"bench-{os.getpid()}.")
    async with admin_client(base) as admin:
        await apply_catalogue(admin, load_catalogue(), base.topic_prefix)
    agencies = workdir / "agencies.yaml"
    agency = {"id": "KAZ-BORDER", "countries": ["KAZ"], "key_sha256": [hash_key(KEY)]}
    agencies.write_bytes(orjson.dumps({"agencies": [agency]}))
    port = free_port()
    env = {
        **os.environ, "RELAY_KAFKA_BOOTSTRAP": bootstrap, "RELAY_TOPIC_PREFIX": base.topic_prefix,
        "RELAY_INGEST_AGENCIES_FILE": str(agencies), "RELAY_INGEST_HTTP_PORT": str(port),
        "RELAY_INGEST_RAW_ENABLED": "false", "RELAY_INGEST_RATE_PER_S": "1e7",
        "RELAY_INGEST_RATE_BURST": "1e7", "RELAY_LOG_LEVEL": "warning",
    }  # fmt: skip
    command = [sys.executable, "-m", "services.ingest"]
    server = subprocess.Popen(command, env=env, cwd=REPO_ROOT)  # noqa: ASYNC220 - starts, no wait
    client = Pool(port)
    try:
        await wait_ready(port, server)
        await single_throughput(client, 500, 16)  # warm-up: connections, metadata, broker
        await batch_throughput(client, 5000, 500)
        single = await single_throughput(client, 4000, 32)
        note(f"single {single:.0f}/s")
        batch = await batch_throughput(client, 40_000, 500)
        note(f"batch {batch:.0f}/s")
        # This process times the answers: its own full collections (100+ ms here) would count
        # as ingest's latency (as in bench_notifier).
        gcpolicy.settle_heap(no_automatic_full=True)
        cold, cold_refused = await fixed_rate_latency(client, 10)
        note(f"cold p99 {percentile(cold, 99) * 1000:.1f} ms")
        latencies, refused = await fixed_rate_latency(client, 10)
        refused += cold_refused
        if refused:  # reported, not hidden: a machine that cannot take the rate says so
            note(f"{refused} events not accepted at {FIXED_RATE}/s")
    finally:
        client.close()
        server.terminate()
        server.wait(30)
    return {
        "single_events_per_s": round(single),
        "batch_events_per_s": round(batch),
        "fixed_rate_events_per_s": FIXED_RATE,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "cold_p99_ms": round(percentile(cold, 99) * 1000, 2),
        "fixed_rate_not_accepted": refused,
        "meets_targets": batch >= TARGET_BATCH_PER_S
        and refused == 0
        and percentile(latencies, 99) * 1000 <= TARGET_P99_MS,
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="relay-bench-ingest-") as tmp:
        bootstrap = os.environ.get("RELAY_KAFKA_BOOTSTRAP")
        broker = None
        if not bootstrap:
            broker = LocalBroker(local_broker_settings(Path(tmp) / "kafka"))
            broker.start()
            bootstrap = broker.bootstrap
        try:
            result = asyncio.run(measure(bootstrap, Path(tmp)))
        finally:
            if broker is not None:
                broker.stop()
    results = REPO_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps({"bench": "ingest", **result}).decode()
    (results / "ingest.json").write_text(line + "\n")
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
