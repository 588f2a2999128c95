"""Publish entries to ``watchlist.entries`` (key = entry_id), and read the current one back.

Every record is handed to one idempotent acks=all producer first, then every delivery is awaited,
so a load runs at batch speed and the result counts exactly what the broker stored. A large
feed is published from the files its parse wrote (``publish_parts``), never held in memory.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition
from pydantic import BaseModel, Field

from schemas.codec import decode_entry, encode, schema_header
from schemas.topics import TopicName
from schemas.watchlist import WatchlistEntry
from services.common import topic_read
from services.common.batches import Batches
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings
from services.watchlist.chunks import read_records

TOPIC: TopicName = "watchlist.entries"
_IN_FLIGHT = 64  # batches handed to the producer and not yet stored
_PROGRESS_EVERY = 10_000
HEADERS = [schema_header(WatchlistEntry)]
log = get_logger(__name__)


class PublishResult(BaseModel):
    topic: str
    attempted: int = 0
    stored: int = 0
    failures: dict[str, int] = Field(default_factory=dict)  # error class -> how many

    @property
    def failed(self) -> int:
        return self.attempted - self.stored


async def publish_entries(
    settings: CommonSettings, entries: Sequence[WatchlistEntry]
) -> PublishResult:
    records = [(e.entry_id.encode(), encode(e)) for e in entries]
    return await _publish(settings, records)


async def publish_parts(
    settings: CommonSettings,
    parts: Sequence[Path],
    partitions: int,
    progress: Callable[[int], None],
) -> PublishResult:
    """Publish the (partition, key, value) records of ``parts`` in order
    (``chunks.write_records``, for a topic of ``partitions`` partitions).

    Records are appended straight to their partition's open batch (``Batches``); at most
    ``_IN_FLIGHT`` batches wait for the broker at a time, so memory stays flat whatever the
    file's size. ``progress`` gets the number of records handed over, now and then.
    """
    topic = settings.topic(TOPIC)
    failures: Counter[str] = Counter()
    pending: dict[asyncio.Future[Any], int] = {}
    attempted = 0
    chosen = _Chosen()
    async with make_producer(settings, linger_ms=10) as producer:
        batches = Batches(producer, chosen)
        await batches.start([topic])
        if len(batches.partitions[topic]) != partitions:
            raise KafkaError(
                f"{topic} has {len(batches.partitions[topic])} partitions, not {partitions}"
            )
        add = batches.add
        for part in parts:
            for chosen.partition, key, value in read_records(part):
                attempted += 1
                try:
                    future = add(topic, key, value, HEADERS)
                except KafkaError as exc:  # too large for a batch: refused before sending
                    failures[type(exc).__name__] += 1
                    continue
                pending[future] = pending.get(future, 0) + 1
                if len(pending) > _IN_FLIGHT:
                    await _settle(pending, failures, _IN_FLIGHT // 2)
                if attempted % _PROGRESS_EVERY == 0:
                    progress(_PROGRESS_EVERY)
        await _settle(pending, failures, 0)
    progress(attempted % _PROGRESS_EVERY)
    result = PublishResult(topic=topic, attempted=attempted, failures=dict(failures))
    result.stored = attempted - sum(failures.values())
    log.info("watchlist.published", topic=topic, stored=result.stored, failed=result.failed)
    return result


class _Chosen:
    """The partitioner of ``publish_parts``: the partition the parse worked out."""

    partition = 0

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        return self.partition


async def _settle(
    pending: dict[asyncio.Future[Any], int], failures: Counter[str], keep: int
) -> None:
    """Wait for the oldest batches until at most ``keep`` are pending; count their failures."""
    while len(pending) > keep:
        future = next(iter(pending))
        count = pending.pop(future)
        await asyncio.wait([future])
        if future.cancelled():
            failures["CancelledError"] += count
        elif future.exception() is not None:
            failures[type(future.exception()).__name__] += count


async def publish_tombstones(settings: CommonSettings, entry_ids: Iterable[str]) -> PublishResult:
    """A null value under the key: the matcher forgets the entry, compaction later removes it."""
    return await _publish(settings, [(entry_id.encode(), None) for entry_id in entry_ids])


async def _publish(
    settings: CommonSettings, records: Sequence[tuple[bytes, bytes | None]]
) -> PublishResult:
    topic = settings.topic(TOPIC)
    result = PublishResult(topic=topic, attempted=len(records))
    failures: Counter[str] = Counter()
    async with make_producer(settings) as producer:
        pending: list[asyncio.Future[object]] = []
        for key, value in records:
            try:
                pending.append(await producer.send(topic, value, key=key, headers=HEADERS))
            except KafkaError as exc:  # refused before sending (too large, closed...)
                failures[type(exc).__name__] += 1
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            failures[type(outcome).__name__] += 1
    result.failures = dict(failures)
    result.stored = result.attempted - sum(failures.values())
    log.info("watchlist.published", topic=topic, stored=result.stored, failed=result.failed)
    return result


async def current_entries(
    settings: CommonSettings, entry_ids: Sequence[str], timeout_s: float = 60.0
) -> dict[str, WatchlistEntry | None]:
    """The latest value of each key on the topic (None: tombstoned); absent keys are left out.

    Reads only the partitions the keys hash to (the producer's default partitioner), from the
    beginning to the end offsets taken at the start.
    """
    topic = settings.topic(TOPIC)
    wanted = {entry_id.encode() for entry_id in entry_ids}
    latest: dict[str, WatchlistEntry | None] = {}
    partitions = [tp.partition for tp in await partitions_of(settings, topic)]
    chosen = {DefaultPartitioner()(key, partitions, partitions) for key in wanted}
    async with make_consumer(settings, group_id=None) as consumer, asyncio.timeout(timeout_s):
        ranges = await topic_read.to_end(consumer, [TopicPartition(topic, p) for p in chosen])
        async for batch in topic_read.read(consumer, ranges):
            for message in batch:
                if message.key in wanted:
                    value = message.value
                    latest[message.key.decode()] = None if value is None else decode_entry(value)
    return latest
