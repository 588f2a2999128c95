"""Notifier benchmark: alert -> signed webhook latency at a steady rate, and isolation.

Runs the real notifier as a child process (``python -m services.notifier``) against a broker
(RELAY_KAFKA_BOOTSTRAP or a fresh local one) and a real signature-verifying receiver in this
process. Before it, a throw-away notifier carries the same load for ``--broker-warm-s`` (180 s;
0 skips it, e.g. for a broker already warm through RELAY_KAFKA_BOOTSTRAP): see ``warm_broker``.
Then, after a cold phase (``--warm-s``), phase 1: every endpoint healthy. Phase 2: the
coordination centre's endpoint answers in 5 s; we measure the other (healthy) endpoints.
Latency = receiver arrival - alert ``created_at`` (same machine clock). Prints one JSON object
as its last line.

    python -m bench.bench_notifier [--rate 200] [--seconds 15] [--warm-s 45] [--slow-s 5]
                                   [--broker-warm-s 180] [--profile FILE]
    RELAY_NOTIFIER_WEBHOOK_CLIENT=aiohttp python -m bench.bench_notifier   # the other client
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support import bench_broker, cpu_seconds, create_topics, free_port, percentile
from schemas.alert import Alert
from schemas.codec import encode, schema_header
from services.common import gcpolicy
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.demo.directory import service_secrets
from services.notifier.settings import NotifierSettings
from tests.peers.webhook_receiver import Delivery, WebhookReceiver
from tests.support.notifier_data import make_alert, secret_for, standard_directory
from tests.support.notifier_harness import write_directory

HEALTHY = ("KAZ-NCB", "UZB-NCB")
DEFAULT_CLIENT = NotifierSettings.model_fields["notifier_webhook_client"].default
SLOW = "XPO-CC"


async def produce_steady(
    settings: CommonSettings, rate: int, seconds: float, ids: set[str] | None = None
) -> list[Alert]:
    """``rate`` alerts a second for ``seconds``, each stamped with its send time (and its id
    added to ``ids`` before it is sent)."""
    sent: list[Alert] = []
    tick = 0.02
    per_tick = rate * tick
    async with make_producer(settings, linger_ms=0) as producer:
        start = time.monotonic()
        owed = 0.0
        while time.monotonic() - start < seconds:
            owed += per_tick
            while owed >= 1:
                owed -= 1
                alert = make_alert(created_at=datetime.now(UTC))
                if ids is not None:
                    ids.add(alert.alert_id)
                # The matcher keys alerts by entry id. These all share one entry, so they are
                # keyed by alert id to spread over the partitions as many entries' alerts would.
                await producer.send(
                    settings.topic("alerts"), encode(alert), key=alert.alert_id.encode(),
                    headers=[schema_header(Alert)],
                )  # fmt: skip
                sent.append(alert)
            await asyncio.sleep(max(0.0, start + (len(sent) / rate) - time.monotonic()))
        await producer.flush()
    return sent


def latencies(
    deliveries: list[Delivery], alerts: list[Alert], endpoints: tuple[str, ...]
) -> list[float]:
    created = {a.alert_id: a.created_at.timestamp() for a in alerts}
    return [
        (d.received_at - created[d.body["data"]["alert"]["alert_id"]]) * 1000
        for d in deliveries
        if d.endpoint in endpoints and d.body["data"]["alert"]["alert_id"] in created
    ]


class Arrivals:
    """Counts first arrivals of this phase's alerts at healthy endpoints as they happen. The
    receiver re-checks the wait condition after every request, so scanning all deliveries
    there (as before) was quadratic and stalled the receiver, inflating the latencies it
    stamps."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        self.wanted: set[str] = set()
        self.seen: set[tuple[str, str]] = set()
        receiver.on_delivery = self.arrived

    def arrived(self, delivery: Delivery) -> None:
        alert_id = delivery.body["data"]["alert"]["alert_id"]
        if delivery.endpoint in HEALTHY and alert_id in self.wanted:
            self.seen.add((delivery.endpoint, alert_id))


async def phase(
    settings: CommonSettings,
    receiver: WebhookReceiver,
    args: argparse.Namespace,
    pid: int,
    seconds: float | None = None,
) -> dict[str, float]:
    """One phase at the rate (``args.seconds`` long unless told); with the notifier's CPU per
    alert (independent of other load)."""
    arrivals = Arrivals(receiver)
    cpu_before = cpu_seconds(pid)
    alerts = await produce_steady(settings, args.rate, seconds or args.seconds, arrivals.wanted)
    await receiver.wait_for(lambda: len(arrivals.seen) >= len(alerts) * len(HEALTHY), 120)
    cpu = cpu_seconds(pid) - cpu_before
    values = latencies(receiver.deliveries, alerts, HEALTHY)
    return {
        "notifier_cpu_us_per_alert": round(cpu / len(alerts) * 1e6),
        "alerts": len(alerts),
        "deliveries": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
    }


def start_notifier(
    settings: CommonSettings, directory: Path, log: Path, profile: str | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **service_secrets(directory.parent),
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_NOTIFIER_HTTP_PORT": str(free_port()),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(directory),
        "RELAY_NOTIFIER_WEBHOOK_TIMEOUT_S": "10",
        "RELAY_LOG_LEVEL": "warning",
    }
    # --profile writes cProfile stats of the notifier (it exits cleanly on SIGTERM).
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *profiler, "-m", "services.notifier"], env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@asynccontextmanager
async def notifier_stack(
    bootstrap: str, files: Path, profile: str | None = None
) -> AsyncIterator[tuple[CommonSettings, WebhookReceiver, int]]:
    """Topics under a fresh prefix, a receiver and a started notifier that has delivered its
    first alerts (connections open, metadata known); all stopped on exit. ``files``: the
    prefix of its directory file and log."""
    settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"b-{uuid.uuid4().hex[:8]}.")
    await create_topics(settings)
    receiver = WebhookReceiver(secrets={n: secret_for(n) for n in (*HEALTHY, SLOW)})
    await receiver.start()
    directory = write_directory(files.with_suffix(".yaml"), standard_directory(receiver.url))
    child = start_notifier(settings, directory, files.with_suffix(".log"), profile)
    try:
        first = await produce_steady(settings, 20, 1)
        await receiver.wait_for(lambda: len(receiver.ids("KAZ-NCB")) >= len(first), 120)
        yield settings, receiver, child.pid
    finally:
        os.kill(child.pid, signal.SIGTERM)
        child.wait(30)
        await receiver.stop()


async def warm_broker(bootstrap: str, files: Path, args: argparse.Namespace) -> dict[str, float]:
    """The bench's load for ``args.broker_warm_s`` through a throw-away notifier (its own
    topics; its alerts stay behind). A broker JVM fresh from start needs minutes of this load
    before its produce and fetch paths are compiled: four bench runs in a row on one new broker
    gave healthy p99 125, 57, 48 and 62 ms; brokers that had carried 10-20 minutes of them,
    23-46 ms. A production notifier talks to a broker that has run for days. The measured
    notifier starts afterwards with nothing in memory."""
    async with notifier_stack(bootstrap, files) as (settings, receiver, pid):
        gcpolicy.settle_heap(no_automatic_full=True)  # the receiver keeps ~100,000 deliveries
        return await phase(settings, receiver, args, pid, args.broker_warm_s)


async def main(bootstrap: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        broker_warm = None
        if args.broker_warm_s > 0:
            broker_warm = await warm_broker(bootstrap, Path(tmp) / "warm-notifier", args)
        stack = notifier_stack(bootstrap, Path(tmp) / "notifier", args.profile)
        async with stack as (settings, receiver, pid):
            # This process stamps arrivals: its own full collections would count as latency.
            gcpolicy.settle_heap(no_automatic_full=True)
            # A first phase at the full rate, reported as "cold" and not as the result: the
            # notifier's own first minute (its heap and the broker's handling of its new topics).
            cold = await phase(settings, receiver, args, pid, args.warm_s)
            gcpolicy.settle_heap(no_automatic_full=True)
            healthy = await phase(settings, receiver, args, pid)
            receiver.slow(SLOW, args.slow_s)
            gcpolicy.settle_heap(no_automatic_full=True)
            with_slow = await phase(settings, receiver, args, pid)
    delta = with_slow["p99_ms"] - healthy["p99_ms"]
    return {
        "bench": "notifier",
        "rate_per_s": args.rate,
        # The notifier inherits RELAY_* from this environment (client, lane concurrency).
        "webhook_client": os.environ.get("RELAY_NOTIFIER_WEBHOOK_CLIENT", DEFAULT_CLIENT),
        "seconds_per_phase": args.seconds,
        "broker_warm_up_s": args.broker_warm_s,
        "broker_warm_up": broker_warm,
        "warm_up_s": args.warm_s,
        "cold": cold,
        "healthy": healthy,
        "one_endpoint_slow": {**with_slow, "slow_endpoint_answers_in_s": args.slow_s},
        "p50_ms": healthy["p50_ms"],
        "p99_ms": healthy["p99_ms"],
        "p99_with_slow_endpoint_ms": with_slow["p99_ms"],
        "p99_delta_ms": round(delta, 2),
        "target_p99_ms": 50,
        "target_delta_ms": 50,
        "meets_targets": healthy["p99_ms"] <= 50 and delta <= 50,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--slow-s", type=float, default=5)
    parser.add_argument("--warm-s", type=float, default=45, help="the cold phase's length")
    parser.add_argument(
        "--broker-warm-s", type=float, default=180, help="load on the broker before (0: none)"
    )
    parser.add_argument("--profile", help="write cProfile stats of the notifier to this file")
    with bench_broker() as bootstrap:  # started outside the event loop (it runs its own)
        result = asyncio.run(main(bootstrap, parser.parse_args()))
    print(json.dumps(result))
