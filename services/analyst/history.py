"""The analysis state, owned per partition of the history topic and rebuilt from it.

``analyst.sightings`` is the history: every event and hit the copier wrote, kept for the
retention window (the topic's own retention deletes what is older). Each partition's records
feed one ``Analyser``; on start the analysis reads ``leads`` to its end (what was published),
then replays each partition from its first record without publishing, publishes the leads
that replay changed (work a stopped analyst had not finished) and follows the partitions
live. Leads are idempotent: replaying an event that was analysed before yields no new record.
No offsets are committed: the whole retained history is the state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.codec import decode
from schemas.lead import Lead
from services.analyst.domain import Analyser, Params
from services.analyst.domain.leads import LeadBook
from services.analyst.handlers import Analysis, LeadPublisher
from services.analyst.metrics import AnalystMetrics
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
        self, params: Params, key: bytes, metrics: AnalystMetrics, clock: Clock = _now
    ) -> None:
        self.params = params
        self.key = key
        self.metrics = metrics
        self.clock = clock
        self.book = LeadBook()
        self.partitions: dict[TopicPartition, Analysis] = {}
        self.replayed = 0  # records read while rebuilding
        self.analysed = 0  # records through the patterns, since start

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

    async def replay(
        self, consumer: AIOKafkaConsumer, history: list[TopicPartition], fate: FateWrapper
    ) -> dict[str, Lead]:
        """Each partition from its first record to its end now; the leads that changed."""
        changed: dict[str, Lead] = {}
        ranges = await to_end(consumer, history)
        async for batch in read(consumer, ranges):
            for lead in await self.handle(batch, fate):
                changed[lead.lead_id] = lead
            self.replayed += len(batch)
        for tp, (_, stop) in ranges.items():
            consumer.seek(tp, stop)  # a poll may have fetched beyond: follow from the stop
        self.purge()
        return changed

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
            await publisher.publish(out.values())
            self.purge()

    async def handle(self, records: list[Record], fate: FateWrapper) -> list[Lead]:
        """Records of one partition, each through the fate wrapper."""
        found: list[Lead] = []
        for record in records:
            analysis = self.analysis(TopicPartition(record.topic, record.partition))

            async def one(record: Record = record, analysis: Analysis = analysis) -> None:
                found.extend(analysis.handle(record))

            await fate.run(record, one)
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
