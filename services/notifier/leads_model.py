"""The leads an analyst can open: every lead of the compacted ``leads`` topic in its latest
state, read by the console's Leads view.

Every notifier replica reads the whole topic (no consumer group) from its start, then follows
it: a lead is a record keyed by its id, so the latest record is the lead and a tombstone
withdraws it. Until the first read reaches the end, the view answers 503 rather than a
partial list. Nothing is written back: the analysis service owns the topic.
"""

from __future__ import annotations

import asyncio

from aiokafka import ConsumerRecord

from schemas.codec import decode
from schemas.lead import LEADS_TOPIC, Lead
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings

log = get_logger(__name__)
POLL_MS = 500


class LeadsModel:
    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.topic = settings.topic(LEADS_TOPIC)
        self.leads: dict[str, Lead] = {}
        self.caught_up = asyncio.Event()
        self.changed = asyncio.Event()  # set after every batch read (tests wait on it)

    def get(self, lead_id: str) -> Lead | None:
        return self.leads.get(lead_id)

    def all(self) -> list[Lead]:
        return list(self.leads.values())

    async def run(self) -> None:
        """Read every partition from the start, then follow it (a task of its own)."""
        partitions = await partitions_of(self.settings, self.topic)
        async with make_consumer(self.settings, group_id=None) as consumer:
            ranges = await topic_read.to_end(consumer, partitions)
            async for batch in topic_read.read(consumer, ranges):
                self.apply(batch)
            self.caught_up.set()
            log.info("notifier.leads_read", leads=len(self.leads))
            while True:  # and on: the partitions stay assigned past their ends
                polled = await consumer.getmany(timeout_ms=POLL_MS, max_records=1000)
                for records in polled.values():
                    self.apply(records)

    def apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            if record.key is None:
                continue  # not a lead's record: every lead is keyed by its id
            lead_id = record.key.decode(errors="replace")
            if record.value is None:
                self.leads.pop(lead_id, None)  # withdrawn
                continue
            try:
                lead = decode(Lead, record.value)
            except ValueError as exc:
                # The analysis service's own dead letters are its business; here an
                # unreadable lead is left out and counted in the log, the view goes on.
                log.warning("notifier.lead_unreadable", error=type(exc).__name__)
                continue
            self.leads[lead.lead_id] = lead
        self.changed.set()
