"""Every replica's read model of the whole inbox, and the warm start of a takeover.

After the rebuild (``store.rebuild``) every replica goes on reading all partitions of
``notifications.deliveries`` and ``notifications.acks``: what the other replicas write about
the alerts they own. So each console and API shows the whole inbox of a country, and a replica
that is given a partition already holds its state: it reads only what is left up to the end
(``reached``) before it acts. This plays the part of faust's standby tables on the topics the
notifier already keeps, with nothing to restore from a changelog of its own.

Records of partitions this replica owns are skipped: it wrote them, and its memory is newer.
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from schemas.codec import SchemaVersionError, check_schema_header, decode
from schemas.notification import Acknowledgement, Notification
from services.common.kafka import LOW_LATENCY_FETCH, make_consumer
from services.common.logging import get_logger
from services.common.settings import CommonSettings
from services.notifier.engine import Engine

log = get_logger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]


class Tail:
    def __init__(self, settings: CommonSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.deliveries = settings.topic("notifications.deliveries")
        self.acks = settings.topic("notifications.acks")
        self.consumer: AIOKafkaConsumer | None = None
        self._moved = asyncio.Event()
        self.applied = 0

    async def open(self, starts: dict[int, int]) -> AIOKafkaConsumer:
        """Assign every partition: deliveries from where the rebuild stopped (``starts``),
        answers from now on (the rebuild reads job states, not answers)."""
        consumer = make_consumer(self.settings, group_id=None, **LOW_LATENCY_FETCH)
        await consumer.start()
        # Partitioned alike (the notifier checks it at start: ``app.owned_partitions``).
        deliveries = [TopicPartition(self.deliveries, p) for p in sorted(starts)]
        acks = [TopicPartition(self.acks, p) for p in sorted(starts)]
        consumer.assign([*deliveries, *acks])
        for tp in deliveries:
            consumer.seek(tp, starts[tp.partition])
        await consumer.seek_to_end(*acks)
        self.consumer = consumer
        return consumer

    async def run(self) -> None:
        assert self.consumer is not None
        while True:
            batch = await self.consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batch.values():
                for record in records:
                    self._apply(record)
            if batch:
                self._moved.set()
                self._moved = asyncio.Event()

    def _apply(self, record: Record) -> None:
        if record.value is None:
            return  # a tombstone: retention, of alerts memory evicts by itself
        try:
            if record.topic == self.deliveries:
                self.engine.apply_remote(decode(Notification, record.value))
                self.applied += 1
                return
            check_schema_header(record.headers, Acknowledgement)
            ack = decode(Acknowledgement, record.value)
        except (ValidationError, SchemaVersionError):
            # Its writer checked it; a record that does not read is another version's.
            log.warning("tail.unreadable", topic=record.topic, offset=record.offset)
            return
        view = self.engine.inbox.alerts.get(ack.alert_id)
        # The owner applies its own (``handlers.AckHandler``); an alert not in memory (evicted,
        # closed) is read back from its jobs when somebody asks for it.
        if view is not None and not self.engine.owns_view(view):
            self.engine.take_ack(ack)

    async def reached(self, partitions: set[int], timeout_s: float) -> bool:
        """Until this replica has read the given deliveries partitions to their current end
        (what their last owner stored). False after ``timeout_s``: it acts on what it has."""
        assert self.consumer is not None
        wanted = [TopicPartition(self.deliveries, p) for p in sorted(partitions)]
        if not wanted:
            return True
        ends = await self.consumer.end_offsets(wanted)
        deadline = time.monotonic() + timeout_s
        while True:
            behind = [tp for tp in wanted if await self.consumer.position(tp) < ends[tp]]
            if not behind:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("tail.behind_at_takeover", partitions=[tp.partition for tp in behind])
                return False
            try:
                async with asyncio.timeout(min(left, 1.0)):
                    await self._moved.wait()
            except TimeoutError:
                continue
