"""Reading a bounded stretch of a topic: from given offsets up to the end seen at the start.

Used by ``relay dlq`` (list, show, replay) and ``relay tail``. A read never waits for records
that do not exist yet unless the caller asks to follow (tail).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common import topic_read
from services.common.topic_read import Ranges, Record
from services.tooling.ops.dlq import OffsetFilter


class ReadTimeoutError(TimeoutError):
    """The broker did not hand over records that its offsets say exist."""


async def bounds(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], flt: OffsetFilter,
    committed: dict[TopicPartition, int] | None = None,
) -> Ranges:  # fmt: skip
    """Per partition [start, stop): the filter, the committed offsets and what exists."""
    chosen = [tp for tp in tps if flt.partition is None or tp.partition == flt.partition]
    low = await consumer.beginning_offsets(chosen)
    high = await consumer.end_offsets(chosen)
    result: Ranges = {}
    for tp in chosen:
        start = max(low[tp], flt.from_offset or 0, (committed or {}).get(tp, 0))
        stop = high[tp] if flt.to_offset is None else min(high[tp], flt.to_offset + 1)
        if start < stop:
            result[tp] = (start, stop)
    return result


async def read_range(
    consumer: AIOKafkaConsumer, ranges: Ranges, timeout_s: float = 30.0
) -> list[Record]:
    """Every record in the ranges, ordered by partition then offset."""
    records: list[Record] = []
    if not ranges:
        return records
    try:
        async with asyncio.timeout(timeout_s):
            async for batch in topic_read.read(consumer, ranges):
                records.extend(batch)
    except TimeoutError as exc:
        raise ReadTimeoutError(f"records missing from {sorted(map(str, ranges))}") from exc
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
