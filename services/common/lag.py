"""Consumer lag as a Prometheus gauge, reported by each service for its own consumer group.

Every ``interval_s`` the group's committed offsets are compared with the partitions' end
offsets (admin calls and one ``end_offsets`` request, on clients kept open); the result feeds
``relay_consumer_lag{service,topic,partition}``. It runs as a background task of its own, so a
slow answer never delays the consumer, and a failed round is logged and retried next time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack

from aiokafka.errors import KafkaError

from services.common.kafka import described_partitions, make_admin, make_consumer
from services.common.logging import get_logger
from services.common.metrics import process_metrics
from services.common.settings import CommonSettings

log = get_logger(__name__)

LagSink = Callable[[Iterable[tuple[str, int, int]]], None]


def process_lag_sink(service: str) -> LagSink:
    """For services that export the process's default registry (ingest, notifier); the
    matcher passes its own ``Metrics.set_lag``."""
    return process_metrics(service).set_lag


class LagProbe:
    """One admin client and one consumer, kept open between rounds: opening them each round
    (three client start-ups, each with its own connection and metadata) costs the service's
    event loop, which delivers its records, a stall every round."""

    def __init__(self, settings: CommonSettings) -> None:
        self._admin = make_admin(settings)
        self._consumer = make_consumer(settings, group_id=None)
        self._opened = AsyncExitStack()

    async def __aenter__(self) -> LagProbe:
        async with AsyncExitStack() as stack:  # what started is closed if the next one fails
            await self._admin.start()
            stack.push_async_callback(self._admin.close)
            await self._consumer.start()
            stack.push_async_callback(self._consumer.stop)
            self._opened = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._opened.aclose()

    async def lags(self, group: str, topics: list[str]) -> list[tuple[str, int, int]]:
        """``(topic, partition, lag)`` for every partition of ``topics`` (described each
        round: partitions added since are counted too)."""
        partitions = described_partitions(await self._admin.describe_topics(topics))
        committed = await self._admin.list_consumer_group_offsets(group)
        ends = await self._consumer.end_offsets(partitions)
        lags = []
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lags.append((tp.topic, tp.partition, max(0, ends[tp] - done)))
        return lags


async def group_lag(
    settings: CommonSettings, group: str, topics: list[str]
) -> list[tuple[str, int, int]]:
    """``(topic, partition, lag)`` for every partition of ``topics``, once."""
    async with LagProbe(settings) as probe:
        return await probe.lags(group, topics)


async def report_lag(
    settings: CommonSettings, group: str, topics: list[str], sink: LagSink, interval_s: float = 15
) -> None:
    """Until cancelled; after a failed round the clients are opened afresh."""
    while True:
        try:
            async with LagProbe(settings) as probe:
                while True:
                    sink(await probe.lags(group, topics))
                    await asyncio.sleep(interval_s)
        except (KafkaError, LookupError, OSError) as exc:
            log.warning("lag.report_failed", group=group, error=type(exc).__name__)
        await asyncio.sleep(interval_s)
