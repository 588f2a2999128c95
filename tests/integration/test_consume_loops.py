"""The shared consume loops on the real broker: outputs stored before offsets are committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from services.common.consume import PipelinedLoop
from services.common.fate import FateWrapper
from services.common.kafka import RelayConsumer, admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings
from tests.support.kafka_io import TopicReader, produce_json

RECORDS = 300


class CountingConsumer(RelayConsumer):
    """Counts the commits it is asked for (the broker's committed offsets say what they held)."""

    commits = 0

    async def commit(self, offsets: Any = None) -> None:
        type(self).commits += 1
        await super().commit(offsets)


async def committed_offsets(settings: CommonSettings, group: str) -> dict[TopicPartition, int]:
    async with admin_client(settings) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset > 0}


async def committed(settings: CommonSettings, group: str) -> int:
    return sum((await committed_offsets(settings, group)).values())


async def done_or_confirmed(settings: CommonSettings, group: str, loop: PipelinedLoop) -> int:
    """Records whose outputs are stored: committed, or confirmed and waiting for the interval."""
    done = await committed_offsets(settings, group)
    for tp, offset in loop.confirmed.items():
        done[tp] = max(done.get(tp, 0), offset)
    return sum(done.values())


def forward(producer: AIOKafkaProducer, sink: str) -> Any:
    async def handle(record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        return [await producer.send(sink, record.value, key=record.key)]

    return handle


async def test_pipelined_loop_commits_stored_work_at_most_once_per_interval(
    topics: CommonSettings,
) -> None:
    source, sink = topics.topic("events.border_crossing"), topics.topic("alerts")
    group = topics.group("pipelined")
    await produce_json(topics, source, [(f"k{i}", {"n": i}) for i in range(RECORDS)])
    consumer = make_consumer(topics, source, group_id=group)
    consumer.__class__ = CountingConsumer
    async with consumer, make_producer(topics) as producer:
        fate = FateWrapper("test", producer, topics.topic("events.dlq"))
        loop = PipelinedLoop(
            consumer, fate, forward(producer, sink), max_records=20, commit_interval_s=0.5
        )
        task = asyncio.create_task(loop.run())
        try:
            async with asyncio.timeout(60):
                # The broker's committed offsets have no event to await: poll them.
                while await committed(topics, group) < RECORDS:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        finally:
            task.cancel()
    async with TopicReader(topics, sink) as out:
        stored = await out.until(lambda rs: len(rs) >= RECORDS, 30)
    assert sorted(r.key for r in stored) == sorted(f"k{i}".encode() for i in range(RECORDS))
    assert loop.stats.done == RECORDS
    # 15 or more batches, yet few commits: one per half second of work.
    assert CountingConsumer.commits < RECORDS // 20


async def test_a_stopped_pipelined_loop_commits_what_it_confirmed(topics: CommonSettings) -> None:
    source, sink = topics.topic("events.border_crossing"), topics.topic("alerts")
    group = topics.group("pipelined-stop")
    await produce_json(topics, source, [(f"k{i}", {"n": i}) for i in range(RECORDS)])
    async with (
        make_consumer(topics, source, group_id=group) as consumer,
        make_producer(topics) as producer,
    ):
        fate = FateWrapper("test", producer, topics.topic("events.dlq"))
        # An hour between commits: after the first batch, only stopping commits.
        loop = PipelinedLoop(
            consumer, fate, forward(producer, sink), max_records=20, commit_interval_s=3600
        )
        task = asyncio.create_task(loop.run())
        async with asyncio.timeout(60):
            # What the loop has confirmed has no event to await: poll it.
            while await done_or_confirmed(topics, group, loop) < RECORDS:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert await committed(topics, group) < RECORDS
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await committed(topics, group) == RECORDS
