"""The shared consume loops on the real broker: outputs stored before offsets are committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from services.common.consume import PipelinedLoop
from services.common.fate import FateWrapper
from services.common.kafka import admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings
from tests.support.kafka_io import TopicReader, produce_json

RECORDS = 300
BATCH = 20


async def committed(settings: CommonSettings, group: str) -> int:
    """What the broker holds as the group's committed offsets, summed over partitions."""
    async with admin_client(settings) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def forward(producer: AIOKafkaProducer, sink: str) -> Any:
    async def handle(record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        return [await producer.send(sink, record.value, key=record.key)]

    return handle


async def outputs(settings: CommonSettings, sink: str) -> list[bytes | None]:
    async with TopicReader(settings, sink) as out:
        stored = await out.until(lambda rs: len(rs) >= RECORDS, 60)
    return sorted(r.key for r in stored if r.key is not None)


async def test_pipelined_loop_commits_stored_work_at_most_once_per_interval(
    topics: CommonSettings,
) -> None:
    source, sink = topics.topic("events.border_crossing"), topics.topic("alerts")
    group = topics.group("pipelined")
    await produce_json(topics, source, [(f"k{i}", {"n": i}) for i in range(RECORDS)])
    commits: list[dict[TopicPartition, int]] = []
    latest: dict[TopicPartition, int] = {}
    all_committed = asyncio.Event()

    def note(offsets: dict[TopicPartition, int]) -> None:
        commits.append(offsets)
        latest.update(offsets)
        if sum(latest.values()) >= RECORDS:
            all_committed.set()

    async with (
        make_consumer(topics, source, group_id=group) as consumer,
        make_producer(topics) as producer,
    ):
        fate = FateWrapper("test", producer, topics.topic("events.dlq"))
        loop = PipelinedLoop(
            consumer, fate, forward(producer, sink), max_records=BATCH,
            commit_interval_s=0.5, on_commit=note,
        )  # fmt: skip
        task = asyncio.create_task(loop.run())
        try:
            await asyncio.wait_for(all_committed.wait(), 60)
            assert await committed(topics, group) == RECORDS
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert await outputs(topics, sink) == sorted(f"k{i}".encode() for i in range(RECORDS))
    assert loop.stats.done == RECORDS
    # 15 or more batches, yet few commits: one per half second of work.
    assert len(commits) < RECORDS // BATCH


async def test_a_stopped_pipelined_loop_commits_what_it_handled(topics: CommonSettings) -> None:
    source, sink = topics.topic("events.border_crossing"), topics.topic("alerts")
    group = topics.group("pipelined-stop")
    await produce_json(topics, source, [(f"k{i}", {"n": i}) for i in range(RECORDS)])
    async with (
        make_consumer(topics, source, group_id=group) as consumer,
        make_producer(topics) as producer,
    ):
        fate = FateWrapper("test", producer, topics.topic("events.dlq"))
        # An hour between commits: only stopping commits.
        loop = PipelinedLoop(
            consumer, fate, forward(producer, sink), max_records=BATCH, commit_interval_s=3600
        )
        task = asyncio.create_task(loop.run())
        assert len(await outputs(topics, sink)) == RECORDS  # every record handled
        assert await committed(topics, group) == 0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await committed(topics, group) == RECORDS
