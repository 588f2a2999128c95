"""A group consumer's stop() ends, however the fetcher is caught (aio-libs/aiokafka#983)."""

from __future__ import annotations

import asyncio

from services.common.kafka import make_consumer, make_producer
from services.common.settings import CommonSettings


async def test_group_consumers_stop_every_time_while_fetching(
    topics: CommonSettings, unique: str
) -> None:
    topic = topics.topic("alerts")
    async with make_producer(topics) as producer:
        for index in range(50):
            await producer.send(topic, b"x", key=f"k{index}".encode())
        await producer.flush()
    for round_ in range(4):
        consumer = make_consumer(topics, topic, group_id=f"stop-{unique}-{round_}")
        await consumer.start()
        try:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=5000), 30)
            assert batch  # assigned and fetching when stop() comes
        finally:
            # Bounded by the test: a stop() that lost its cancellation would hang here.
            await asyncio.wait_for(consumer.stop(), 30)
