"""``relay dlq`` against the broker: list, show and replay the records of a dead-letter topic.

Replay reads with a consumer group of its own (``relay-dlq-replay.<dlq topic>`` unless told
otherwise) and commits, after every replayed record was acknowledged, the offset after the last
record it looked at: the next replay starts there, so nothing is replayed twice by accident.
Records the filter passed over *before* that point count as looked at; ``--again`` ignores the
group's offset on purpose.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from pydantic import BaseModel

from schemas.topics import TopicName
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.common.topic_read import Record
from services.tooling.ops.dlq import (
    OffsetFilter,
    ReplayItem,
    ReplayResult,
    plan_item,
    replay_headers,
)
from services.tooling.ops.reader import bounds, read_range


class ReplayRequest(BaseModel):
    topic: TopicName  # the dead-letter topic; the prefix is added
    filter: OffsetFilter = OffsetFilter()
    dry_run: bool = False
    again: bool = False  # ignore what the replay group already committed
    group: str | None = None


def replay_group(physical_topic: str) -> str:
    return f"relay-dlq-replay.{physical_topic}"


async def read_dead_letters(
    settings: CommonSettings, topic: TopicName, flt: OffsetFilter, limit: int | None = None
) -> list[Record]:
    """Records of the dead-letter topic ``topic`` (catalogue name) that pass ``flt``."""
    async with make_consumer(settings, group_id=None) as consumer:
        tps = await partitions_of(settings, settings.topic(topic))
        records = await read_range(consumer, await bounds(consumer, tps, flt))
    return records if limit is None else records[:limit]


async def show_dead_letter(
    settings: CommonSettings, topic: TopicName, partition: int, offset: int
) -> Record | None:
    flt = OffsetFilter(partition=partition, from_offset=offset, to_offset=offset)
    found = await read_dead_letters(settings, topic, flt)
    return found[0] if found else None


async def replay(settings: CommonSettings, request: ReplayRequest) -> ReplayResult:
    physical = settings.topic(request.topic)
    group = request.group or replay_group(physical)
    async with make_consumer(settings, group_id=group) as consumer:
        tps = await partitions_of(settings, physical)
        committed = {} if request.again else await _committed(consumer, tps)
        ranges = await bounds(consumer, tps, request.filter, committed)
        records = await read_range(consumer, ranges)
        existing = set(await consumer.topics())
        items = [plan_item(r, existing) for r in records]
        result = ReplayResult(dlq_topic=physical, group=group, dry_run=request.dry_run, items=items)
        if request.dry_run or not records:
            return result
        await _send(settings, records, items)
        offsets = {tp: stop for tp, (_, stop) in ranges.items()}
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        result.committed = {tp.partition: o for tp, o in offsets.items()}
    return result


async def _committed(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    found: dict[TopicPartition, int] = {}
    for tp in tps:
        offset = await consumer.committed(tp)
        if offset is not None:
            found[tp] = offset
    return found


async def _send(settings: CommonSettings, records: list[Record], items: list[ReplayItem]) -> None:
    """Produce every replayable record; returns once the broker acknowledged all of them."""
    now = datetime.now(UTC)
    async with make_producer(settings) as producer:
        futures = [
            await producer.send(
                item.target, record.value, key=record.key, headers=replay_headers(record, now)
            )
            for record, item in zip(records, items, strict=True)
            if item.skipped is None and item.target is not None
        ]
        await asyncio.gather(*futures)
