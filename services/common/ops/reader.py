"""Reading a bounded stretch of a topic: from given offsets up to the end seen at the start.

Used by ``relay dlq`` (list, show, replay) and ``relay tail``. A read never waits for records
that do not exist yet unless the caller asks to follow (tail).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.common.kafka import admin_client
from services.common.ops.dlq import OffsetFilter
from services.common.settings import CommonSettings

Record: TypeAlias = ConsumerRecord[bytes, bytes]


class ReadTimeoutError(TimeoutError):
    """The broker did not hand over records that its offsets say exist."""


async def partitions(settings: CommonSettings, topic: str) -> list[TopicPartition]:
    """The topic's partitions; raises LookupError when the topic does not exist.

    Asked of the admin client: a consumer only keeps metadata of topics it subscribes to.
    """
    async with admin_client(settings) as admin:
        [described] = await admin.describe_topics([topic])
    if described["error_code"] or not described["partitions"]:
        raise LookupError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p["partition"]) for p in sorted(
        described["partitions"], key=lambda p: p["partition"])]  # fmt: skip


async def bounds(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], flt: OffsetFilter,
    committed: dict[TopicPartition, int] | None = None,
) -> dict[TopicPartition, tuple[int, int]]:  # fmt: skip
    """Per partition [start, stop): the filter, the committed offsets and what exists."""
    chosen = [tp for tp in tps if flt.partition is None or tp.partition == flt.partition]
    low = await consumer.beginning_offsets(chosen)
    high = await consumer.end_offsets(chosen)
    result: dict[TopicPartition, tuple[int, int]] = {}
    for tp in chosen:
        start = max(low[tp], flt.from_offset or 0, (committed or {}).get(tp, 0))
        stop = high[tp] if flt.to_offset is None else min(high[tp], flt.to_offset + 1)
        if start < stop:
            result[tp] = (start, stop)
    return result


async def read_range(
    consumer: AIOKafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]],
    timeout_s: float = 30.0,
) -> list[Record]:  # fmt: skip
    """Every record in the ranges, ordered by partition then offset."""
    records: list[Record] = []
    if not ranges:
        return records
    consumer.assign(list(ranges))
    for tp, (start, _) in ranges.items():
        consumer.seek(tp, start)
    pending = set(ranges)
    deadline = time.monotonic() + timeout_s
    while pending:
        if time.monotonic() > deadline:
            raise ReadTimeoutError(f"records missing from {sorted(map(str, pending))}")
        batch = await consumer.getmany(*pending, timeout_ms=500)
        for tp, got in batch.items():
            records.extend(r for r in got if r.offset < ranges[tp][1])
        for tp in list(pending):
            if await consumer.position(tp) >= ranges[tp][1]:
                pending.discard(tp)
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def follow(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], *, from_beginning: bool,
    on_ready: Callable[[], None] | None = None,
) -> AsyncGenerator[Record, None]:  # fmt: skip
    """Records as they arrive, from the start or from now on, until the caller stops."""
    consumer.assign(tps)
    if from_beginning:
        await consumer.seek_to_beginning(*tps)
    else:
        await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)  # resolves the lazy seek: "from now on" starts here
    if on_ready is not None:
        on_ready()
    while True:
        batch = await consumer.getmany(timeout_ms=500)
        for got in batch.values():
            for record in got:
                yield record
