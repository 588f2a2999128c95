"""The consume loops every service uses to read Kafka.

Each record goes through the fate wrapper; the handler returns the produce futures of its
output (``producer.send`` results). Offsets are committed only after every output of the
records before them was acknowledged by the broker, so a crash at any point re-reads, never
loses. If an output fails (broker gone), the consumer rewinds to its committed offsets and
tries again later: at-least-once, with idempotent ids downstream.

- ``ConsumeLoop`` waits for a batch's outputs and its commit before it polls again (ingest's
  raw intake, retro-screening: throughput matters, not each record's latency).
- ``PipelinedLoop`` goes on handling the next batches while a committer task waits for the
  outputs of each batch and then commits its offsets, strictly in order. On a busy broker
  that wait is tens of milliseconds per batch, which ``ConsumeLoop`` adds to the latency of
  every record behind it (the matcher's events, the notifier's alerts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.common.fate import STORE_RETRY, Fate, FateWrapper, RetryPolicy
from services.common.logging import get_logger

log = get_logger(__name__)

# A stopping loop waits at most this long to commit what it confirmed.
STOP_COMMIT_S = 5.0

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[Sequence[Awaitable[Any]]]]
# Runs once per batch after every record's handler and before the commit (batch-wide work).
BatchHook = Callable[[], Awaitable[Sequence[Awaitable[Any]]]]
# Told each record's fate (dead letters are counted by the wrapper itself, ``fate``).
FateHook = Callable[[Fate], None]
Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
Offsets = dict[TopicPartition, int]


@dataclass
class LoopStats:
    consumed: int = 0
    done: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    rewinds: int = 0
    fates: dict[Fate, int] = field(default_factory=dict)


@dataclass
class _Records:
    """What both loops do with a batch's records: settle each one's fate, collect outputs."""

    consumer: AIOKafkaConsumer
    fate: FateWrapper
    handle: Handler
    on_fate: FateHook | None
    stats: LoopStats

    async def handle_batch(self, batch: Batch) -> tuple[list[Awaitable[Any]], Offsets]:
        pending: list[Awaitable[Any]] = []
        offsets: Offsets = {}
        for tp, records in batch.items():
            for record in records:
                self.stats.consumed += 1
                fate = await self.fate.run(record, _collect(self.handle, record, pending))
                self._count(fate)
            offsets[tp] = records[-1].offset + 1
        return pending, offsets

    def _count(self, fate: Fate) -> None:
        self.stats.fates[fate] = self.stats.fates.get(fate, 0) + 1
        if fate is Fate.DONE:
            self.stats.done += 1
        elif fate is Fate.DEAD_LETTERED:
            self.stats.dead_lettered += 1
        else:
            self.stats.dropped += 1
        if self.on_fate is not None:
            self.on_fate(fate)

    async def rewind_after(self, exc: KafkaError, failures: int, backoff: RetryPolicy) -> None:
        self.stats.rewinds += 1
        log.warning("consume.output_failed_rewinding", error=type(exc).__name__)
        await asyncio.sleep(backoff.delay(failures))
        for partition in self.consumer.assignment():
            committed = await self.consumer.committed(partition)
            if committed is None:
                await self.consumer.seek_to_beginning(partition)
            else:
                self.consumer.seek(partition, committed)


@dataclass
class ConsumeLoop:
    consumer: AIOKafkaConsumer
    fate: FateWrapper
    handle: Handler
    max_records: int = 500
    poll_timeout_ms: int = 200
    # Outputs are written again (the batch re-read) for as long as it takes.
    rewind_backoff: RetryPolicy = STORE_RETRY
    after_batch: BatchHook | None = None
    on_fate: FateHook | None = None
    stats: LoopStats = field(default_factory=LoopStats)

    async def run(self) -> None:
        """Until cancelled."""
        records = _Records(self.consumer, self.fate, self.handle, self.on_fate, self.stats)
        failures = 0
        while True:
            batch = await self.consumer.getmany(
                timeout_ms=self.poll_timeout_ms, max_records=self.max_records
            )
            if not batch:
                continue
            try:
                pending, _ = await records.handle_batch(batch)
                if self.after_batch is not None:
                    pending.extend(await self.after_batch())
                # Raises KafkaError if any output was not stored: nothing is committed then.
                await asyncio.gather(*pending)
                await self.consumer.commit()
            except KafkaError as exc:
                failures += 1
                await records.rewind_after(exc, failures, self.rewind_backoff)
            else:
                failures = 0


Handled = tuple[list[Awaitable[Any]], Offsets]  # a batch's outputs, and its next offsets
# Told the offsets of each commit, once the broker has them.
CommitHook = Callable[[Offsets], None]


@dataclass
class PipelinedLoop:
    consumer: AIOKafkaConsumer
    fate: FateWrapper
    handle: Handler
    # Small batches keep each record's wait behind the ones before it short.
    max_records: int = 64
    poll_timeout_ms: int = 100
    max_unconfirmed: int = 64  # batches handled but not yet confirmed (then it waits)
    # At most one commit per interval (0: one per confirmed batch). Each commit is a write on
    # the broker; a crash re-reads at most this much more.
    commit_interval_s: float = 0.0
    # Outputs are written again (the batch re-read) for as long as it takes.
    rewind_backoff: RetryPolicy = STORE_RETRY
    on_fate: FateHook | None = None
    on_commit: CommitHook | None = None
    stats: LoopStats = field(default_factory=LoopStats)
    # Offsets whose outputs are stored, not yet committed (the interval has not passed).
    confirmed: Offsets = field(default_factory=dict)
    # Batches the committer took from the queue, oldest first, whose outputs it waits for.
    _taken: deque[Handled] = field(default_factory=deque)
    _queue: asyncio.Queue[Handled] | None = None
    # Held while a batch is handled, and by a rebalance from revocation to assignment
    # (``pause``): no record is handled for partitions changing hands.
    _handling: asyncio.Lock = field(default_factory=asyncio.Lock)
    _paused: bool = False

    async def run(self) -> None:
        """Until cancelled. A cancelled loop first confirms and commits what it handled (for at
        most ``STOP_COMMIT_S``), so a restart re-reads only what was not finished."""
        records = _Records(self.consumer, self.fate, self.handle, self.on_fate, self.stats)
        failures = 0
        while True:
            queue: asyncio.Queue[Handled] = asyncio.Queue(self.max_unconfirmed)
            self._queue = queue
            committer = asyncio.create_task(self._commit(queue), name="consume-commit")
            try:
                await self._handle(records, queue, committer)
            except KafkaError as exc:
                failures += 1
                self._taken.clear()  # read again from the committed offsets
                self.confirmed = {}
                await records.rewind_after(exc, failures, self.rewind_backoff)
            except asyncio.CancelledError:
                await self._stop(queue, committer)
                raise
            finally:
                committer.cancel()
                with contextlib.suppress(asyncio.CancelledError, KafkaError):
                    await committer

    async def _handle(
        self, records: _Records, queue: asyncio.Queue[Handled], committer: asyncio.Task[None]
    ) -> None:
        """Poll and handle until the committer fails (its KafkaError is raised here)."""
        while not committer.done():
            batch = await self.consumer.getmany(
                timeout_ms=self.poll_timeout_ms, max_records=self.max_records
            )
            if committer.done():
                break  # its failure rewinds; these records are read again
            if not batch:
                continue
            async with self._handling:
                handled = await records.handle_batch(batch)
            if not queue.full():
                queue.put_nowait(handled)
                continue
            # A full queue (broker slower than intake) holds the loop: back-pressure.
            put = asyncio.ensure_future(queue.put(handled))
            await asyncio.wait([put, committer], return_when=asyncio.FIRST_COMPLETED)
            if not put.done():
                put.cancel()
        committer.result()  # raises the write or commit failure

    async def _commit(self, queue: asyncio.Queue[Handled]) -> None:
        """Confirm batches in order; commit what is confirmed at most once per interval."""
        loop = asyncio.get_running_loop()
        last_commit = loop.time()
        while True:
            due = last_commit + self.commit_interval_s - loop.time()
            if self.confirmed and due <= 0:
                await self._commit_confirmed()
                last_commit = loop.time()
                continue
            try:
                wait = due if self.confirmed else None
                self._taken.append(await asyncio.wait_for(queue.get(), wait))
            except TimeoutError:
                continue  # the interval is over: commit what is confirmed
            while not queue.empty():  # everything handled meanwhile
                self._taken.append(queue.get_nowait())
            await self._confirm()  # KafkaError: nothing of these is committed

    async def _confirm(self) -> None:
        """Wait for the outputs of the taken batches, oldest first; then they are confirmed."""
        while self._taken:
            pending, offsets = self._taken[0]
            await _stored(pending)
            self._taken.popleft()
            self.confirmed.update(offsets)

    async def _commit_confirmed(self) -> None:
        # A partition revoked since it was handled is the new owner's to commit: offering it
        # here fails the whole commit, and the rewind would re-read every partition we keep.
        held = self.consumer.assignment()
        confirmed, self.confirmed = self.confirmed, {}
        committing = {tp: offset for tp, offset in confirmed.items() if tp in held}
        if not committing:
            return
        await self.consumer.commit(committing)
        if self.on_commit is not None:
            self.on_commit(committing)

    async def pause(self) -> None:
        """A rebalance began: wait for the batch being handled, then handle none until
        ``resume``. (A rebalance listener calls both.)"""
        if not self._paused:
            await self._handling.acquire()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._handling.release()

    async def commit_handled(self, timeout_s: float) -> None:
        """A handover: wait (bounded) for the outputs of every batch handled so far, then commit
        their offsets, so the partitions' next owner starts right after them. Never raises: what
        is not committed is read again by the next owner (idempotent ids)."""
        while self._queue is not None and not self._queue.empty():
            self._taken.append(self._queue.get_nowait())  # the committer confirms from there
        try:
            async with asyncio.timeout(timeout_s):
                for pending, batch_offsets in list(self._taken):
                    await _stored(pending)
                    self.confirmed.update(batch_offsets)  # paused: no batch comes after these
        except (KafkaError, TimeoutError):
            log.warning("consume.handover_not_confirmed")
        with contextlib.suppress(KafkaError, TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._commit_confirmed()

    async def _stop(self, queue: asyncio.Queue[Handled], committer: asyncio.Task[None]) -> None:
        """Shutdown: confirm what was handled and commit it, bounded in time, never raising."""
        committer.cancel()
        with contextlib.suppress(asyncio.CancelledError, KafkaError):
            await committer
        while not queue.empty():
            self._taken.append(queue.get_nowait())
        with contextlib.suppress(KafkaError, TimeoutError):
            async with asyncio.timeout(STOP_COMMIT_S):
                await self._confirm()
        if self.confirmed:
            with contextlib.suppress(KafkaError, TimeoutError):
                async with asyncio.timeout(STOP_COMMIT_S):
                    await self._commit_confirmed()
        self._taken.clear()


async def _stored(pending: list[Awaitable[Any]]) -> None:
    """Until every output is stored; raises the first failure. Unlike ``gather``, a cancelled
    caller leaves the outputs' futures alone, so a stopping loop can still wait for them."""
    futures = [asyncio.ensure_future(output) for output in pending]
    if futures:
        await asyncio.wait(futures)
    for future in futures:
        if future.cancelled():
            raise KafkaError("an output was cancelled before it was stored")
        failure = future.exception()
        if failure is not None:
            raise failure


def _collect(
    handle: Handler, record: ConsumerRecord[bytes, bytes], pending: list[Awaitable[Any]]
) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        pending.extend(await handle(record))

    return call
