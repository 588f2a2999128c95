"""The in-memory watchlist: every matcher reads all of ``watchlist.entries`` into its index.

The reader belongs to no consumer group: each process needs every entry. It starts from the
beginning of the compacted topic, and the matcher is ready once it has caught up with the end
offsets seen at start. It keeps reading afterwards, polling every 100 ms, so a cancellation or
a tombstone removes the entry from matching well within a second. An unreadable record is
skipped here (the previous version of the entry stays); the retro-screening group, which
reads each change once, dead-letters it.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from schemas.codec import decode_entry
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.settings import MatcherSettings

log = get_logger(__name__)

# The matcher's readiness condition: no event is screened against a partial list.
WATCHLIST_CAUGHT_UP = "watchlist_caught_up"


class WatchlistState:
    def __init__(self, settings: MatcherSettings, index: WatchlistIndex) -> None:
        self.settings = settings
        self.index = index
        self.topic = settings.topic("watchlist.entries")
        self.ready = asyncio.Event()
        self.records_read = 0
        self.invalid_records = 0

    async def run(self) -> None:
        """Read the topic until cancelled."""
        consumer = make_consumer(
            self.settings, group_id=None, isolation_level="read_uncommitted", max_poll_records=5000
        )
        assigned = await partitions_of(self.settings, self.topic)
        async with consumer:
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            targets = await consumer.end_offsets(assigned)
            log.info("watchlist.loading", partitions=len(assigned), records=sum(targets.values()))
            while True:
                batch = await consumer.getmany(timeout_ms=100, max_records=5000)
                for records in batch.values():
                    for record in records:
                        self.apply(record)
                if not self.ready.is_set() and await self._caught_up(consumer, targets):
                    self.ready.set()
                    log.info("watchlist.ready", entries=len(self.index), read=self.records_read)

    async def _caught_up(
        self, consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]
    ) -> bool:
        for partition, end in targets.items():
            if await consumer.position(partition) < end:
                return False
        return True

    def apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.records_read += 1
        entry_id = record.key.decode(errors="replace") if record.key else None
        if record.value is None:  # tombstone
            if entry_id:
                self.index.remove(entry_id)
            return
        try:
            entry = decode_entry(record.value)
        except ValidationError:
            self.invalid_records += 1
            log.warning(
                "watchlist.record_invalid", partition=record.partition, offset=record.offset
            )
            return
        self.index.upsert(entry_record(entry))  # a cancelled entry removes itself
