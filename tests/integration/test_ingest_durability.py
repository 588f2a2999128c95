"""10,000 events in, exactly 10,000 canonical events out; and no 2xx for what was not stored."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.codec import decode_event
from schemas.topics import TopicName, load_catalogue
from services.common.kafka import admin_client, make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.ingest.server import serving
from services.ingest.synthetic import make_event
from services.tooling.kafka_local import LocalBroker
from services.tooling.topics import apply_catalogue
from tests.integration.test_ingest_http import (
    KAZ_KEY,
    ingest_settings,
    read_events,
    write_agencies,
)
from tests.support.broker import free_port, local_broker_settings

EVENT_TOPICS: tuple[TopicName, ...] = ("events.border_crossing", "events.document_check")
Statuses = dict[str, list[int]]


async def read_all(settings: CommonSettings, expected: int, timeout_s: float = 90) -> list[str]:
    """Event ids on both canonical topics, waiting until at least ``expected`` arrived."""
    ids: list[str] = []
    for topic in EVENT_TOPICS:
        count = await _end_offsets(settings, topic)
        records = await read_events(settings, topic, count, timeout_s)
        ids.extend(decode_event(r.value).event_id for r in records)
    assert len(ids) >= expected
    return ids


async def _end_offsets(settings: CommonSettings, topic: TopicName) -> int:
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions_of(settings, settings.topic(topic)))
        return int(sum(ends.values()))
    finally:
        await consumer.stop()


class Sender:
    """Posts events (single and batches) and remembers every status each event got."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.statuses: Statuses = {}

    async def single(self, body: dict[str, Any]) -> None:
        try:
            response = await self.client.post("/v1/events", json=body)
            status = response.status_code
        except httpx.TransportError:
            status = 0  # no answer at all: not a 2xx either
        self.statuses.setdefault(body["event_id"], []).append(status)

    async def batch(self, bodies: list[dict[str, Any]]) -> None:
        response = await self.client.post("/v1/events:batch", json={"events": bodies})
        assert response.status_code in (202, 503), response.text
        for body, result in zip(bodies, response.json()["results"], strict=True):
            assert result["event_id"] == body["event_id"]
            self.statuses.setdefault(body["event_id"], []).append(result["status"])


async def run_workers(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            await (queue.get_nowait())()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def mixed_jobs(sender: Sender, seed: int, singles: int, batches: int, size: int) -> list[Any]:
    rng = random.Random(seed)
    jobs: list[Callable[[], Awaitable[None]]] = []
    for _ in range(singles):
        jobs.append(functools.partial(sender.single, make_event(rng)))
    for _ in range(batches):
        jobs.append(functools.partial(sender.batch, [make_event(rng) for _ in range(size)]))
    rng.shuffle(jobs)
    return jobs


def fast_settings(settings: CommonSettings, agencies: Path, **extra: Any) -> Any:
    return ingest_settings(
        settings, agencies, ingest_raw_enabled=False, ingest_rate_per_s=1e6,
        ingest_rate_burst=1e6, **extra,
    )  # fmt: skip


@pytest.mark.slow
async def test_ten_thousand_events_give_exactly_ten_thousand(
    topics: CommonSettings, tmp_path: Path
) -> None:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    async with (
        serving(fast_settings(topics, agencies), free_port()) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        client.headers["X-API-Key"] = KAZ_KEY
        sender = Sender(client)
        await run_workers(mixed_jobs(sender, 42, singles=5000, batches=50, size=100), 32)
    assert len(sender.statuses) == 10_000
    assert all(s == [202] for s in sender.statuses.values())
    ids = await read_all(topics, 10_000)
    assert len(ids) == 10_000
    assert set(ids) == set(sender.statuses)


@pytest.mark.slow
async def test_broker_stopped_midway_no_2xx_for_what_was_not_stored(tmp_path: Path) -> None:
    broker = LocalBroker(local_broker_settings(tmp_path / "kafka2"))
    await asyncio.to_thread(broker.start)
    try:
        await _stop_and_restart(broker, tmp_path)
    finally:
        await asyncio.to_thread(broker.stop)


async def _stop_and_restart(broker: LocalBroker, tmp_path: Path) -> None:
    base = CommonSettings(kafka_bootstrap=broker.bootstrap, topic_prefix="t-outage.")
    async with admin_client(base) as admin:
        await apply_catalogue(admin, load_catalogue(), base.topic_prefix)
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    config = fast_settings(base, agencies, ingest_send_timeout_s=2.0)
    async with (
        serving(config, free_port()) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        client.headers["X-API-Key"] = KAZ_KEY
        sender = Sender(client)
        await run_workers(mixed_jobs(sender, 1, singles=500, batches=5, size=100), 16)
        await asyncio.to_thread(broker.stop)
        await run_workers(mixed_jobs(sender, 2, singles=100, batches=2, size=50), 16)
        await asyncio.to_thread(broker.start)
        await run_workers(mixed_jobs(sender, 3, singles=500, batches=5, size=100), 16)
    accepted = {i for i, s in sender.statuses.items() if 202 in s}
    ids = set(await read_all(base, len(accepted)))
    assert accepted <= ids, f"{len(accepted - ids)} events were answered 202 but are not stored"
    for event_id, statuses in sender.statuses.items():
        assert set(statuses) <= {202, 503, 0}, statuses
        if event_id not in ids:
            assert 202 not in statuses
    during_outage = [s for s in sender.statuses.values() if 503 in s]
    assert during_outage, "the outage produced no 503: the test proved nothing"
    assert len(accepted) > 1000, "ingest did not recover after the broker came back"
