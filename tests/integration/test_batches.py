"""Batched writes on the real broker: every record stored once, in key order,
each future resolved only once its batch is stored."""

from __future__ import annotations

import asyncio

from services.common.batches import Batches, KeyPartitioner
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from tests.support.notifier_harness import read_until

KEYS = [f"n-{i:032x}".encode() for i in range(40)]


async def test_records_stored_once_in_key_order_across_many_batches(
    topics: CommonSettings,
) -> None:
    topic = topics.topic("notifications.deliveries")
    partitioner = KeyPartitioner()
    async with make_producer(topics, linger_ms=10, partitioner=partitioner) as producer:
        batches = Batches(producer, partitioner)
        await batches.start([topic])
        futures = []
        for step in range(50):  # writes spread over many loop iterations, as deliveries are
            for key in KEYS:
                value = f"{key.decode()}:{step}".encode()
                futures.append(batches.add(topic, key, value, [("relay-schema", b"x/1")]))
            if step % 5 == 0:  # the last write stored: later ones go into new batches
                await asyncio.wait_for(futures[-1], 30)
        await asyncio.gather(*futures)  # resolved: stored with acks=all
        assert len(set(map(id, futures))) < len(futures)  # records did share batches
        await batches.flush()
        tomb = batches.add(topic, KEYS[0], None, [])
        await batches.flush()
        assert tomb.done()
        assert tomb.exception() is None
    records = await read_until(topics, "notifications.deliveries", lambda rs: len(rs) >= 2001)
    assert len(records) == 2001
    steps: dict[bytes, list[int]] = {}
    for record in records:
        if record.value is not None:
            steps.setdefault(record.key, []).append(int(record.value.split(b":")[1]))
    assert all(seen == list(range(50)) for seen in steps.values())
    assert set(steps) == set(KEYS)
    last = [r for r in records if r.key == KEYS[0]][-1]
    assert last.value is None  # the tombstone came after every state of its key
    assert dict(last.headers) == {}
