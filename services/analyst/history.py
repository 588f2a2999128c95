"""The analysis state, owned per partition of the history topic and rebuilt from it.

``analyst.sightings`` is the history: every event and hit the copier wrote, kept for the
retention window (the topic's own retention deletes what is older). Each partition's records
feed one ``Analyser``; on start the analysis reads ``leads`` to its end (what was published),
loads the local snapshot of the state if there is a valid one (``snapshot.py``), replays each
partition from the snapshot's offset (or from its first record) without publishing, publishes
the leads that replay changed (work a stopped analyst had not finished) and follows the
partitions live. Leads are idempotent: replaying an event that was analysed before yields no
new record. No offsets are committed: the retained history is the state, the snapshot a
cache of it.

A snapshot is written only where the state and the published leads agree (``clean``: every
lead the state found is stored on ``leads``), since a restart from it does not find them
again: after the rebuild, every ``analyst_snapshot_interval_s`` while following, and on a
graceful stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pickle
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.codec import decode
from schemas.lead import Lead
from services.analyst.domain import Analyser, Params
from services.analyst.domain.leads import LeadBook
from services.analyst.handlers import Analysis, LeadPublisher
from services.analyst.metrics import AnalystMetrics
from services.analyst.snapshot import Refused, SnapshotStore
from services.common.fate import FateWrapper
from services.common.logging import get_logger
from services.common.topic_read import Record, read, to_end

log = get_logger(__name__)

POLL_MS = 200
MAX_RECORDS = 500
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class History:
    """Every partition's ``Analyser``, sharing one book of leads."""

    def __init__(
        self,
        params: Params,
        key: bytes,
        metrics: AnalystMetrics,
        clock: Clock = _now,
        store: SnapshotStore | None = None,
    ) -> None:
        self.params = params
        self.key = key
        self.metrics = metrics
        self.clock = clock
        self.book = LeadBook()
        self.partitions: dict[TopicPartition, Analysis] = {}
        self.positions: dict[TopicPartition, int] = {}  # the next offset the state has not seen
        self.replayed = 0  # records read while rebuilding
        self.analysed = 0  # records through the patterns, since start
        self.store = store
        self.restored: dict[int, int] = {}  # the snapshot's offsets, when one was loaded
        self.clean = False  # every lead the state found is published (``follow``)
        self._saved = time.monotonic()

    def analysis(self, tp: TopicPartition) -> Analysis:
        found = self.partitions.get(tp)
        if found is None:
            analyser = Analyser(self.params, self.key)
            analyser.book = self.book
            found = self.partitions[tp] = Analysis(analyser, self.metrics)
        return found

    async def seed(self, consumer: AIOKafkaConsumer, leads: list[TopicPartition]) -> int:
        """What ``leads`` holds, into the book; the number of leads."""
        async for batch in read(consumer, await to_end(consumer, leads)):
            for record in batch:
                lead_id = (record.key or b"").decode(errors="replace")
                if record.value is None:
                    self.book.leads.pop(lead_id, None)
                    continue
                try:
                    lead = decode(Lead, record.value)
                except ValidationError as exc:  # written by an older analyst: rebuilt by replay
                    log.warning("lead.unreadable", offset=record.offset, errors=exc.error_count())
                    continue
                self.book.leads[lead.lead_id] = lead
        return len(self.book.leads)

    async def restore(
        self, consumer: AIOKafkaConsumer, history: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """The snapshot's state, if it is valid and the topic still holds every record after
        it; where each partition's replay starts (empty: from its first record)."""
        if self.store is None:
            return {}
        try:
            found = await asyncio.to_thread(self.store.read, self.book)
            starts = await _starts(consumer, history, found.offsets)
        except Refused as exc:
            log.info("snapshot.refused", reason=str(exc), replay="from the first record")
            return {}
        for partition, analyser in found.analysers.items():
            tp = TopicPartition(self.store.topic, partition)
            self.partitions[tp] = Analysis(analyser, self.metrics)
        self.restored = found.offsets
        age_s = (self.clock() - found.written_at).total_seconds()
        log.info("snapshot.loaded", offsets=found.offsets, bytes=found.size, age_s=round(age_s))
        return starts

    async def replay(
        self,
        consumer: AIOKafkaConsumer,
        history: list[TopicPartition],
        fate: FateWrapper,
        starts: dict[TopicPartition, int] | None = None,
    ) -> dict[str, Lead]:
        """Each partition from ``starts`` (or its first record) to its end now; the leads that
        changed."""
        changed: dict[str, Lead] = {}
        ranges = await to_end(consumer, history, starts)
        async for batch in read(consumer, ranges):
            for lead in await self.handle(batch, fate):
                changed[lead.lead_id] = lead
            self.replayed += len(batch)
        for tp, (_, stop) in ranges.items():
            consumer.seek(tp, stop)  # a poll may have fetched beyond: follow from the stop
            self.positions[tp] = stop
        self.purge()
        return changed

    async def publish(self, publisher: LeadPublisher, leads: dict[str, Lead]) -> None:
        """Once stored, the state and ``leads`` agree: a snapshot may be taken."""
        await publisher.publish(leads.values())
        self.clean = True

    async def save(self, why: str) -> None:
        """A snapshot of the state, if there is a store and nothing found is unpublished. A
        failure is logged: the history stays whole on the broker."""
        store = self.store
        if store is None or not self.clean:
            return
        self._saved = time.monotonic()
        analysers = {tp.partition: a.analyser for tp, a in self.partitions.items()}
        offsets = {tp.partition: offset for tp, offset in self.positions.items()}
        now = self.clock()

        def write() -> None:  # logs itself: a stop may cancel the wait, not the write
            started = time.monotonic()
            try:
                size = store.write(analysers, offsets, self.book, now)
            except (OSError, pickle.PicklingError, TypeError, AttributeError,
                    RecursionError) as exc:  # fmt: skip
                log.warning("snapshot.failed", why=why, error=type(exc).__name__)
                return
            took = round(time.monotonic() - started, 2)
            if size:
                log.info("snapshot.written", why=why, offsets=offsets, bytes=size, s=took)

        await asyncio.to_thread(write)

    async def follow(
        self, consumer: AIOKafkaConsumer, publisher: LeadPublisher, fate: FateWrapper
    ) -> None:
        """Until cancelled: new records of every partition, their leads published."""
        while True:
            batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
            out: dict[str, Lead] = {}
            for records in batches.values():
                for lead in await self.handle(records, fate):
                    out[lead.lead_id] = lead
            await self.publish(publisher, out)
            self.purge()
            if self.store and time.monotonic() - self._saved >= self.store.interval_s:
                await self.save("interval")

    async def handle(self, records: list[Record], fate: FateWrapper) -> list[Lead]:
        """Records of one partition, each through the fate wrapper."""
        found: list[Lead] = []
        self.clean = False
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            analysis = self.analysis(tp)

            async def one(record: Record = record, analysis: Analysis = analysis) -> None:
                found.extend(analysis.handle(record))

            await fate.run(record, one)
            self.positions[tp] = record.offset + 1
        self.analysed += len(records)
        return found

    def purge(self) -> None:
        """The purge on the wall clock too: a quiet stream still forgets in time."""
        now = self.clock()
        persons = 0
        for analysis in self.partitions.values():
            analysis.analyser.tick(now)
            persons += len(analysis.analyser.registry.persons)
        self.metrics.persons.set(persons)


async def _starts(
    consumer: AIOKafkaConsumer, history: list[TopicPartition], offsets: dict[int, int]
) -> dict[TopicPartition, int]:
    """Where a snapshot's replay starts; ``Refused`` if the topic lost records after it."""
    by_partition = {tp.partition: tp for tp in history}
    if set(offsets) != set(by_partition):
        raise Refused("the topic's partitions changed")
    low = await consumer.beginning_offsets(history)
    high = await consumer.end_offsets(history)
    starts: dict[TopicPartition, int] = {}
    for partition, offset in offsets.items():
        tp = by_partition[partition]
        if offset < low[tp]:
            raise Refused("retention deleted records after it")
        if offset > high[tp]:
            raise Refused("it is ahead of the topic (recreated?)")
        starts[tp] = offset
    return starts
