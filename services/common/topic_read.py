"""Reading a topic to its end: a stretch of partitions from given offsets up to the end offsets
seen at the start, with aiokafka's public API only.

Services use it to rebuild state (the notifier's jobs, the matcher's watchlist, revocations),
to find entries (the watchlist loader), for retro-screening, and ``relay dlq``/``relay tail``.
A read never waits for records that do not exist yet: a partition is done once the consumer's
position reaches its stop, which also covers compaction gaps and transaction markers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = ConsumerRecord[bytes, bytes]
# Per partition [start, stop): the offsets of the records to read.
Ranges: TypeAlias = dict[TopicPartition, tuple[int, int]]

# Records a poll may return: large batches make a rebuild fast.
MAX_RECORDS = 5000
# A partition whose last offsets hold no records (compaction, transaction markers) ends on an
# empty poll: short polls keep that wait short.
POLL_MS = 100


async def to_end(
    consumer: AIOKafkaConsumer,
    partitions: Iterable[TopicPartition],
    starts: Mapping[TopicPartition, int] | None = None,
) -> Ranges:
    """From each partition's first record (or its offset in ``starts``) to its end now. Every
    partition is in the answer, empty ranges too: ``read`` assigns them all, so a caller that
    goes on following the topic afterwards follows every partition."""
    chosen = list(partitions)
    low = await consumer.beginning_offsets(chosen)
    high = await consumer.end_offsets(chosen)
    found = (starts or {}).get
    return {tp: (max(low[tp], found(tp, 0)), high[tp]) for tp in chosen}


async def read(
    consumer: AIOKafkaConsumer, ranges: Ranges, max_records: int = MAX_RECORDS
) -> AsyncIterator[list[Record]]:
    """Assign the ranges' partitions, seek each to its start and yield the records below each
    stop, a partition's batch at a time, until every partition reached its stop. The caller
    bounds the time if it must (``asyncio.timeout``)."""
    consumer.assign(list(ranges))
    for tp, (start, _) in ranges.items():
        consumer.seek(tp, start)
    pending = {tp for tp, (start, stop) in ranges.items() if start < stop}
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=POLL_MS, max_records=max_records)
        for tp, records in batch.items():
            stop = ranges[tp][1]
            below = [r for r in records if r.offset < stop]
            if below:
                yield below
        for tp in list(pending):
            if await consumer.position(tp) >= ranges[tp][1]:
                pending.discard(tp)
