"""Rebuild the notifier's state from the compacted ``notifications.deliveries`` topic."""

from __future__ import annotations

from aiokafka import TopicPartition

from schemas.codec import decode
from schemas.notification import Notification
from services.common.kafka import make_consumer
from services.common.logging import get_logger
from services.common.settings import CommonSettings
from services.notifier.engine import Engine

log = get_logger(__name__)


async def rebuild(engine: Engine, settings: CommonSettings) -> int:
    """Read every partition from the beginning to its end offset at start; latest wins."""
    topic = settings.topic("notifications.deliveries")
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    count = 0
    try:
        # aiokafka has no public call for "partitions of a topic I do not subscribe to".
        partitions = await consumer._client._wait_on_metadata(topic)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        remaining = {tp for tp in assigned if ends[tp] > 0}
        # Latest record per job first: superseded states are never decoded, and a tombstone
        # (retention) removes its job rather than being skipped.
        latest: dict[bytes | None, bytes | None] = {}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=100, max_records=5000)
            for records in batch.values():
                for record in records:
                    latest[record.key] = record.value
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    for value in latest.values():
        if value is not None:
            engine.restore(decode(Notification, value))
            count += 1
    log.info("notifier.state_rebuilt", records=count, alerts=len(engine.inbox.alerts))
    return count
