"""Consumer lag as a Prometheus gauge, reported by each service for its own consumer group.

Every ``interval_s`` the group's committed offsets are compared with the partitions' end
offsets (one admin call and one ``end_offsets`` request); the result feeds
``relay_consumer_lag{service,topic,partition}``. It runs as a background task of its own, so a
slow answer never delays the consumer, and a failed round is logged and retried next time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from services.common.kafka import admin_client, make_consumer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings

log = get_logger(__name__)

LagSink = Callable[[Iterable[tuple[str, int, int]]], None]

# For services that export through the process-wide default registry (ingest, notifier);
# the matcher's ``Metrics`` object carries its own gauge of the same name.
_PROCESS_LAG = Gauge(
    "relay_consumer_lag", "Records behind the end of a partition", ["service", "topic", "partition"]
)


def process_lag_sink(service: str) -> LagSink:
    def sink(lags: Iterable[tuple[str, int, int]]) -> None:
        for topic, partition, lag in lags:
            _PROCESS_LAG.labels(service, topic, str(partition)).set(lag)

    return sink


async def group_lag(
    settings: CommonSettings, group: str, topics: list[str]
) -> list[tuple[str, int, int]]:
    """``(topic, partition, lag)`` for every partition of ``topics``."""
    partitions = await partitions_of(settings, *topics)
    async with admin_client(settings) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    consumer = make_consumer(settings, group_id=None)
    async with consumer:
        ends = await consumer.end_offsets(partitions)
    lags = []
    for tp in partitions:
        meta = committed.get(tp)
        done = meta.offset if meta is not None and meta.offset >= 0 else 0
        lags.append((tp.topic, tp.partition, max(0, ends[tp] - done)))
    return lags


async def report_lag(
    settings: CommonSettings, group: str, topics: list[str], sink: LagSink, interval_s: float = 15
) -> None:
    """Until cancelled."""
    while True:
        try:
            sink(await group_lag(settings, group, topics))
        except (KafkaError, LookupError, OSError) as exc:
            log.warning("lag.report_failed", group=group, error=type(exc).__name__)
        await asyncio.sleep(interval_s)
