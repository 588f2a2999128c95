"""The whole relay as real processes on the real broker: simulated border traffic posted to
ingest comes out as signed webhooks at the demo receiver, and no service logs personal data
or secrets.

ingest (HTTP) -> events.* -> matcher -> alerts -> notifier -> demo receiver (verifies signatures)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from services.common.settings import CommonSettings
from tests.support.stack import (
    Stack,
    StackSpec,
    leaks_in_logs,
    open_stack,
    pii_of_watchlist,
    secrets_of_demo,
    start_all,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    with open_stack(StackSpec(topics.kafka_bootstrap, topics.topic_prefix), tmp_path) as built:
        start_all(built)
        yield built


def _delivered_event_ids(stack: Stack) -> set[str]:
    summary = httpx.get(stack.url("receiver", "/received"), timeout=5).json()
    assert summary["rejected"] == 0, "the receiver rejected a signature"
    return {item["event_id"] for item in summary["recent"] if item.get("event_id")}


async def test_simulated_traffic_reaches_contact_points_signed_and_logs_hold_no_pii(
    stack: Stack,
) -> None:
    await asyncio.to_thread(stack.ready)
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

    stack.stop_all()
    secrets = secrets_of_demo(stack.demo)
    assert len(secrets) >= 10
    leaked = leaks_in_logs(stack, pii_of_watchlist(stack.demo) | secrets)
    assert not leaked, f"personal data or secrets in logs: {[n for n, _ in leaked][:10]}"
