"""Partitions changing hands between notifier replicas, as the consumer group decides.

Revoked: act on nothing (``Ownership.suspend``), finish the batch being handled, store what
the journal has on its way and commit the handled offsets; the next owner starts right after.
Assigned: read the new partitions' deliveries to their end (``Tail.reached``; usually already
there), then own them: their unfinished jobs are sent again (same webhook-id), their
escalations and outcome deadlines armed. The urgent lane follows the same partitions.

How fast a dead replica's partitions move is the group's session timeout (its heartbeats
stop), set by ``notifier_session_timeout_ms`` and ``notifier_heartbeat_interval_ms``; a
graceful stop leaves the group at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from services.common.consume import PipelinedLoop
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.engine import Engine
from services.notifier.tail import Tail

log = get_logger(__name__)

HANDOVER_S = 2.0  # a revoked partition's writes and commit wait at most this long
CATCH_UP_S = 10.0  # a new partition's deliveries are read to their end within this


class UrgentLane:
    """The urgent alerts consumer reads the partitions its replica owns (a manual assignment
    under its own group id, whose offsets it commits)."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str) -> None:
        self.consumer = consumer
        self.topic = topic

    def follow(self, partitions: set[int]) -> None:
        self.consumer.assign([TopicPartition(self.topic, p) for p in sorted(partitions)])


class Handover(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, engine: Engine, tail: Tail, alerts_topic: str, urgent: UrgentLane) -> None:
        self.engine = engine
        self.tail = tail
        self.alerts_topic = alerts_topic
        self.urgent = urgent
        self.loop: PipelinedLoop | None = None  # the owned partitions' loop, once it exists
        self.assigned = asyncio.Event()  # the first assignment is done (readiness)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        started = time.monotonic()
        self.engine.ownership.suspend()
        self.urgent.follow(set())
        if self.loop is not None:
            await self.loop.pause()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HANDOVER_S):
                await self.engine.journal.drain(self.engine.writer.flush)
        if self.loop is not None:
            await self.loop.commit_handled(HANDOVER_S)
        if revoked:
            log.info(
                "notifier.partitions_revoked",
                partitions=sorted({tp.partition for tp in revoked}),
                seconds=round(time.monotonic() - started, 3),
            )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        started = time.monotonic()
        owned = {tp.partition for tp in assigned if tp.topic == self.alerts_topic}
        await self.tail.reached(owned, CATCH_UP_S)
        resumed = self.engine.take_over(owned)
        self.urgent.follow(owned)
        if self.loop is not None:
            self.loop.resume()
        metrics.OWNED_PARTITIONS.set(len(owned))
        self.assigned.set()
        log.info(
            "notifier.partitions_assigned", partitions=sorted(owned), resumed=resumed,
            seconds=round(time.monotonic() - started, 3),
        )  # fmt: skip
