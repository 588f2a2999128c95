"""The audit topic read back for the console's auditors: a scan from the beginning to the end
seen at the start, one scan at a time, bounded in time, keeping only the newest matches."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from datetime import datetime

from aiokafka.errors import KafkaError

from schemas.codec import decode
from schemas.notification import AuditRecord
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.notifier.errors import ArchiveUnavailable

SCAN_S = 30.0  # an auditor waits at most this long; the answer is then 503, try again


class AuditTrail:
    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.lock = asyncio.Lock()

    async def newest(self, keep: Callable[[AuditRecord], bool], limit: int) -> list[AuditRecord]:
        """The newest ``limit`` records that ``keep`` accepts, newest first."""
        found: list[tuple[datetime, str, AuditRecord]] = []  # a min-heap of the newest
        topic = self.settings.topic("notifications.audit")
        async with self.lock:
            try:
                async with asyncio.timeout(SCAN_S):
                    partitions = await partitions_of(self.settings, topic)
                    async with make_consumer(self.settings, group_id=None) as consumer:
                        ranges = await topic_read.to_end(consumer, partitions)
                        async for batch in topic_read.read(consumer, ranges):
                            for record in _decoded(batch):
                                if keep(record):
                                    _keep_newest(found, record, limit)
            except (KafkaError, TimeoutError, LookupError) as exc:
                raise ArchiveUnavailable(f"audit unreadable: {type(exc).__name__}") from exc
        return [record for _, _, record in sorted(found, reverse=True)]


def _keep_newest(
    heap: list[tuple[datetime, str, AuditRecord]], record: AuditRecord, limit: int
) -> None:
    item = (record.at, record.audit_id, record)
    if len(heap) < limit:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _decoded(batch: list[topic_read.Record]) -> list[AuditRecord]:
    return [decode(AuditRecord, r.value) for r in batch if r.value is not None]
