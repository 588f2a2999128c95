"""The notifier's consume loop: routes each batch at once, confirms and commits behind it.

The shared ``ConsumeLoop`` waits for a batch's writes (acks=all) and its commit before it
polls again; on a busy broker that is tens of milliseconds per batch, added to every alert's
latency. Here the loop goes on routing (and so delivering) the next batches while a committer
task waits for the writes of each batch and then commits its offsets, strictly in order. The
guarantee is the same: an offset is committed only after every write of the records before it
was stored; if a write fails, the loop rewinds to the committed offsets and reads them again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.common.consume import REWIND_BACKOFF, Handler, LoopStats
from services.common.fate import Fate, FateWrapper, RetryPolicy
from services.common.logging import get_logger

log = get_logger(__name__)

Offsets = dict[TopicPartition, int]


@dataclass
class PipelinedLoop:
    consumer: AIOKafkaConsumer
    fate: FateWrapper
    handle: Handler
    # Small batches: delivery workers get the loop between them (commits coalesce anyway).
    max_records: int = 64
    poll_timeout_ms: int = 100
    max_unconfirmed: int = 64  # batches routed but not yet committed (then it waits)
    rewind_backoff: RetryPolicy = REWIND_BACKOFF
    stats: LoopStats = field(default_factory=LoopStats)

    async def run(self) -> None:
        """Until cancelled."""
        failures = 0
        while True:
            queue: asyncio.Queue[tuple[list[Awaitable[Any]], Offsets]] = asyncio.Queue(
                self.max_unconfirmed
            )
            committer = asyncio.create_task(self._commit(queue), name="notifier-commit")
            try:
                await self._route(queue, committer)
            except KafkaError as exc:
                failures += 1
                self.stats.rewinds += 1
                log.warning("consume.output_failed_rewinding", error=type(exc).__name__)
                await asyncio.sleep(self.rewind_backoff.delay(min(failures, 6)))
                await self._rewind()
            finally:
                committer.cancel()
                with contextlib.suppress(asyncio.CancelledError, KafkaError):
                    await committer

    async def _route(
        self,
        queue: asyncio.Queue[tuple[list[Awaitable[Any]], Offsets]],
        committer: asyncio.Task[None],
    ) -> None:
        """Poll and route until the committer fails (its KafkaError is raised here)."""
        while not committer.done():
            batch = await self.consumer.getmany(
                timeout_ms=self.poll_timeout_ms, max_records=self.max_records
            )
            if committer.done():
                break  # its failure rewinds; these records are read again
            if batch:
                pending, offsets = await self.process(batch)
                put = asyncio.ensure_future(queue.put((pending, offsets)))
                # A full queue (broker slower than intake) holds the loop: back-pressure.
                await asyncio.wait([put, committer], return_when=asyncio.FIRST_COMPLETED)
                if not put.done():
                    put.cancel()
        committer.result()  # raises the write or commit failure

    async def process(
        self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> tuple[list[Awaitable[Any]], Offsets]:
        pending: list[Awaitable[Any]] = []
        offsets: Offsets = {}
        for tp, records in batch.items():
            for record in records:
                self.stats.consumed += 1
                fate = await self.fate.run(record, _collect(self.handle, record, pending))
                self._count(fate)
            offsets[tp] = records[-1].offset + 1
        return pending, offsets

    async def _commit(self, queue: asyncio.Queue[tuple[list[Awaitable[Any]], Offsets]]) -> None:
        while True:
            pending, offsets = await queue.get()
            while not queue.empty():  # everything routed meanwhile: one commit for all
                more, later = queue.get_nowait()
                pending += more
                offsets.update(later)
            await asyncio.gather(*pending)  # KafkaError: nothing of these is committed
            await self.consumer.commit(offsets)

    def _count(self, fate: Fate) -> None:
        self.stats.fates[fate] = self.stats.fates.get(fate, 0) + 1
        if fate is Fate.DONE:
            self.stats.done += 1
        elif fate is Fate.DEAD_LETTERED:
            self.stats.dead_lettered += 1
        else:
            self.stats.dropped += 1

    async def _rewind(self) -> None:
        for partition in self.consumer.assignment():
            committed = await self.consumer.committed(partition)
            if committed is None:
                await self.consumer.seek_to_beginning(partition)
            else:
                self.consumer.seek(partition, committed)


def _collect(
    handle: Handler, record: ConsumerRecord[bytes, bytes], pending: list[Awaitable[Any]]
) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        pending.extend(await handle(record))

    return call
