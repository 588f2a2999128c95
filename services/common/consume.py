"""The consume loop shared by services that read Kafka without faust.

Each record goes through the fate wrapper; the handler returns the produce futures of its
output (``producer.send`` results). Offsets are committed only after every output of the batch
was acknowledged by the broker, so a crash at any point re-reads, never loses. If an output
fails (broker gone), the consumer rewinds to its committed offsets and tries again later:
at-least-once, with idempotent ids downstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError

from services.common.fate import Fate, FateWrapper, RetryPolicy
from services.common.logging import get_logger

log = get_logger(__name__)

# Rewinding after a failed output backs off up to 5 s between tries, for as long as it takes.
REWIND_BACKOFF = RetryPolicy(attempts=1_000_000, base_delay_s=0.2, max_delay_s=5)

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[Sequence[Awaitable[Any]]]]
# Runs once per batch after every record's handler and before the commit (batch-wide work).
BatchHook = Callable[[], Awaitable[Sequence[Awaitable[Any]]]]


@dataclass
class LoopStats:
    consumed: int = 0
    done: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    rewinds: int = 0
    fates: dict[Fate, int] = field(default_factory=dict)


@dataclass
class ConsumeLoop:
    consumer: AIOKafkaConsumer
    fate: FateWrapper
    handle: Handler
    max_records: int = 500
    poll_timeout_ms: int = 200
    rewind_backoff: RetryPolicy = REWIND_BACKOFF
    after_batch: BatchHook | None = None
    stats: LoopStats = field(default_factory=LoopStats)

    async def run(self) -> None:
        """Until cancelled."""
        failures = 0
        while True:
            batch = await self.consumer.getmany(
                timeout_ms=self.poll_timeout_ms, max_records=self.max_records
            )
            if not batch:
                continue
            try:
                await self.process(batch)
            except KafkaError as exc:
                failures += 1
                self.stats.rewinds += 1
                log.warning("consume.output_failed_rewinding", error=type(exc).__name__)
                await asyncio.sleep(self.rewind_backoff.delay(min(failures, 6)))
                await self._rewind()
            else:
                failures = 0

    async def process(self, batch: dict[Any, list[ConsumerRecord[bytes, bytes]]]) -> None:
        pending: list[Awaitable[Any]] = []
        for records in batch.values():
            for record in records:
                self.stats.consumed += 1
                fate = await self.fate.run(record, _collect(self.handle, record, pending))
                self._count(fate)
        if self.after_batch is not None:
            pending.extend(await self.after_batch())
        # Raises KafkaError if any output was not stored: nothing is committed then.
        await asyncio.gather(*pending)
        await self.consumer.commit()

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
