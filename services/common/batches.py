"""Writes handed to the producer a batch per topic-partition at a time (notifier, ingest).

Many small records (the notifier's job states and audits, ingest's events): through
``producer.send`` each one costs a coroutine chain, a partitioner call, metadata look-ups and
a future of its own, together more than building and sending the record. Here a record is
appended to the open batch of its topic-partition (a C builder) and shares that batch's
future; one hand-over task per topic-partition passes the batches to the producer in order
(``send_batch``), so a batch grows while the previous one is still on its way. The producer
does the rest as before (acks=all, idempotence, retries, linger); every future resolves only
once the broker stored its batch.

Order: records of one key go to one topic-partition, appended in call order, and its batches
are handed over strictly one after the other: a traveller's events, or a notification job's
states, reach their topic in the order they were written.
"""

from __future__ import annotations

import asyncio
import functools
import struct
from collections import deque
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, OutOfOrderSequenceNumber
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import TopicPartition

from services.common.kafka import renew_producer_id
from services.common.logging import get_logger

log = get_logger(__name__)

Future = asyncio.Future[Any]
Headers = Sequence[tuple[str, bytes]]


class KeyPartitioner:
    """aiokafka's default partitioning (murmur2 of the key, as the Java client), with the hash
    remembered: each of the notifier's alerts writes ~15 records keyed by a handful of ids, and
    the pure-Python murmur2 was ~3.5% of its CPU."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._hashes: dict[bytes, int] = {}
        self._default = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(self._default(key, all_partitions, available))
        found = self._hashes.get(key)
        if found is None:
            if len(self._hashes) >= self.size:  # oldest first: ids are written close together
                del self._hashes[next(iter(self._hashes))]
            found = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[found % len(all_partitions)]


def partition_of(key: bytes, count: int) -> int:
    """The partition a key goes to among ``count`` (the default partitioner's choice)."""
    return (murmur2(key) & 0x7FFFFFFF) % count


_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """aiokafka's ``murmur2`` (the Java client's), word by word instead of byte by byte: each
    job's first state record is a cache miss above, a few per alert."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = length >> 2
    for word in struct.unpack_from(f"<{words}I", data):
        k = (word * _M) & _MASK
        k ^= k >> 24
        h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    tail, extra = words << 2, length & 3
    if extra >= 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h = ((h ^ data[tail]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


class _Lane:
    """One topic-partition: batches waiting to be handed over, the open one last."""

    def __init__(self) -> None:
        self.queue: deque[tuple[BatchBuilder, Future]] = deque()
        self.task: asyncio.Task[None] | None = None


class Batches:
    def __init__(self, producer: AIOKafkaProducer, partitioner: Any) -> None:
        self.producer = producer
        self.partitioner = partitioner
        self.lanes: dict[TopicPartition, _Lane] = {}
        self.partitions: dict[str, list[int]] = {}

    async def start(self, topics: Sequence[str]) -> None:
        """Learn each topic's partitions (the producer fetches its metadata)."""
        for topic in topics:
            self.partitions[topic] = sorted(await self.producer.partitions_for(topic))

    def add(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        headers: Headers,
        partition_key: bytes | None = None,
    ) -> Future:
        """Append one record; the future resolves when its batch is stored (acks=all). It goes
        to the partition of ``partition_key`` when given (co-partitioned with another topic),
        else of ``key``."""
        partitions = self.partitions.get(topic)
        if partitions is None:
            raise KeyError(f"topic {topic} not started")
        partition = self.partitioner(partition_key or key, partitions, partitions)
        tp = TopicPartition(topic, partition)
        lane = self.lanes.get(tp)
        if lane is None:
            lane = self.lanes[tp] = _Lane()
        if lane.queue:
            builder, future = lane.queue[-1]
            if builder.append(timestamp=None, key=key, value=value, headers=headers) is not None:
                return future
        builder, future = self.producer.create_batch(), asyncio.get_running_loop().create_future()
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            # As ``producer.send`` says it: callers treat it as any other failed write.
            raise MessageSizeTooLargeError("record larger than a whole batch")
        lane.queue.append((builder, future))
        if lane.task is None:
            lane.task = asyncio.get_running_loop().create_task(
                self._hand_over(tp, lane), name=f"batches:{tp.topic}:{tp.partition}"
            )
        return future

    async def _hand_over(self, tp: TopicPartition, lane: _Lane) -> None:
        """Until the lane is empty: the oldest batch to the producer, then the next."""
        try:
            while lane.queue:
                # Let the calls of this loop iteration fill the batch before it is closed.
                await asyncio.sleep(0)
                self.refresh()
                builder, future = lane.queue.popleft()
                builder.close()
                try:
                    sent = await self.producer.send_batch(builder, tp.topic, partition=tp.partition)
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as exc:  # noqa: BLE001 - handed to whoever awaits the writes
                    _fail(future, exc)
                    continue
                sent.add_done_callback(functools.partial(self._sent, future))
        finally:
            lane.task = None

    def _sent(self, future: Future, done: Future) -> None:
        # The batch is lost (its writers write it again); the next ones need a new id.
        refused = not done.cancelled() and isinstance(done.exception(), OutOfOrderSequenceNumber)
        if refused and renew_producer_id(self.producer):
            log.warning("batches.producer_id_renewed", error="OutOfOrderSequenceNumber")
        _settle(future, done)

    def refresh(self) -> None:
        """Take up partitions added to a topic since start (as the default partitioner would)."""
        cluster = self.producer.client.cluster
        for topic in self.partitions:
            found = cluster.partitions_for_topic(topic)
            if found:
                self.partitions[topic] = sorted(found)

    async def flush(self) -> None:
        """Shutdown: every batch handed over to the producer (``producer.stop`` then sends
        what it holds); batches still queued here are waited for until stored or failed."""
        while True:
            pending = [lane.task for lane in self.lanes.values() if lane.task is not None]
            futures = [f for lane in self.lanes.values() for _, f in lane.queue]
            if not pending and not futures:
                return
            await asyncio.gather(*pending, *futures, return_exceptions=True)


def _settle(future: Future, done: Future) -> None:
    if future.done():
        return
    if done.cancelled():
        future.cancel()
    elif done.exception() is not None:
        _fail(future, done.exception())  # type: ignore[arg-type]
    else:
        future.set_result(None)


def _fail(future: Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved here: callers that only log it must not warn twice
