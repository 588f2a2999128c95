"""The whole relay as real processes on the real broker: simulated border traffic posted to
ingest comes out as signed webhooks at the demo receiver, and no service logs personal data.

ingest (HTTP) -> events.* -> matcher -> alerts -> notifier -> demo receiver (verifies signatures)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from services.common.settings import CommonSettings
from tests.conftest import free_port
from tests.support.process import ServiceProcess

pytestmark = pytest.mark.timeout(300)
RELAY = [sys.executable, "-m", "services.cli.main"]


@dataclass
class Stack:
    env: dict[str, str]
    demo: Path
    logs: Path
    ports: dict[str, int]
    processes: dict[str, ServiceProcess]

    def relay(self, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*RELAY, *args], env=self.env, capture_output=True, text=True, timeout=timeout_s
        )
        assert result.returncode == 0, f"relay {args[0]} failed:\n{result.stderr[-3000:]}"
        return result

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    ports = {name: free_port() for name in ("ingest", "notifier", "matcher", "receiver")}
    demo = tmp_path / "demo"
    env = {
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_INGEST_HTTP_PORT": str(ports["ingest"]),
        "RELAY_NOTIFIER_HTTP_PORT": str(ports["notifier"]),
        "RELAY_MATCHER_HTTP_PORT": str(ports["matcher"]),
        "RELAY_INGEST_AGENCIES_FILE": str(demo / "agencies.yaml"),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(demo / "contact-points.yaml"),
        "RELAY_LOG_FORMAT": "json",
        "RELAY_LOG_LEVEL": "info",
    }
    processes: dict[str, ServiceProcess] = {}
    built = Stack(env=env, demo=demo, logs=tmp_path, ports=ports, processes=processes)
    built.relay(
        "demo", "init", "--dir", str(demo), "--persons", "300", "--sltd", "300",
        "--receiver-url", f"http://127.0.0.1:{ports['receiver']}",
    )  # fmt: skip
    receiver = ("demo", "receiver", "--port", str(ports["receiver"]), "--dir", str(demo))
    processes["receiver"] = ServiceProcess("services.cli.main", env, tmp_path / "r.log", receiver)
    for name in ("matcher", "ingest", "notifier"):
        processes[name] = ServiceProcess(f"services.{name}", env, tmp_path / f"{name}.log")
    try:
        for process in processes.values():
            process.start()
        yield built
    finally:
        for process in processes.values():
            process.stop()


def _ready(stack: Stack) -> None:
    stack.processes["matcher"].wait_http(stack.url("matcher", "/readyz"), 90)
    stack.relay("watchlist", "load", str(stack.demo / "demo-watchlist.jsonl"), "--format", "jsonl")
    stack.processes["ingest"].wait_http(stack.url("ingest", "/readyz"), 60)
    stack.processes["notifier"].wait_http(stack.url("notifier", "/readyz"), 60)
    stack.processes["receiver"].wait_http(stack.url("receiver", "/received"), 30)


def _delivered_event_ids(stack: Stack) -> set[str]:
    summary = httpx.get(stack.url("receiver", "/received"), timeout=5).json()
    assert summary["rejected"] == 0, "the receiver rejected a signature"
    return {item["event_id"] for item in summary["recent"] if item.get("event_id")}


def _pii_of_watchlist(demo: Path) -> set[str]:
    """Surnames, given names and document numbers of the demo watchlist's people."""
    values: set[str] = set()
    for line in (demo / "demo-watchlist.jsonl").read_bytes().splitlines():
        entry = orjson.loads(line)
        for name in (entry.get("person") or {}).get("names", []):
            values.update(v for v in (name.get("surname"), name.get("given_names")) if v)
        for doc in (entry.get("person") or {}).get("documents", []):
            values.add(doc["number"])
        if entry.get("document"):
            values.add(entry["document"]["number"])
    return {v for v in values if len(v) >= 5}


async def test_simulated_traffic_reaches_contact_points_signed_and_logs_hold_no_pii(
    stack: Stack,
) -> None:
    await asyncio.to_thread(_ready, stack)
    sent = stack.logs / "sent.jsonl"
    await asyncio.to_thread(
        stack.relay,
        "simulate", "--count", "400", "--rate", "200", "--listed-share", "0.1",
        "--broken-share", "0.05", "--url", stack.url("ingest", ""),
        "--keys", str(stack.demo / "api-keys.json"),
        "--watchlist", str(stack.demo / "demo-watchlist.jsonl"), "--record", str(sent),
    )  # fmt: skip
    records = [orjson.loads(line) for line in sent.read_bytes().splitlines()]
    listed = {r["event_id"] for r in records if r["sort"].startswith("listed")}
    assert len(listed) >= 20

    deadline = time.monotonic() + 60
    delivered: set[str] = set()
    while time.monotonic() < deadline and not listed <= delivered:
        delivered = await asyncio.to_thread(_delivered_event_ids, stack)
        await asyncio.sleep(0.5)  # polling the receiver's counters, bounded by the deadline
    missing = listed - delivered
    assert not missing, f"{len(missing)} listed travellers produced no delivered webhook"

    for process in stack.processes.values():
        process.stop()
    leaked = []
    secrets = _pii_of_watchlist(stack.demo)
    for name, log in (("matcher", "matcher"), ("ingest", "ingest"), ("notifier", "notifier"),
                      ("receiver", "r")):  # fmt: skip
        text = (stack.logs / f"{log}.log").read_text(errors="replace")
        assert text.strip(), f"{name} wrote no log at all"
        leaked += [(name, value) for value in secrets if value in text]
    assert not leaked, f"personal data in logs: {leaked[:10]}"
