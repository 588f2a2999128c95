"""The notifier's durable copy: the compacted ``notifications.deliveries`` topic.

``rebuild`` reads it at start; ``KafkaArchive`` reads it again for what memory no longer holds
(closed alerts evicted after the memory window): an acknowledgement or a cancellation of such an
alert, and the retention sweep that tombstones jobs closed longer ago than the retention.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiokafka.errors import KafkaError

from schemas.codec import decode
from schemas.notification import Notification
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings
from services.notifier.domain.inbox import FINAL_STATES
from services.notifier.engine import Engine
from services.notifier.errors import ArchiveUnavailable

log = get_logger(__name__)

Record = tuple[bytes | None, bytes | None]  # (key, value); value None = tombstone


async def scan(
    settings: CommonSettings, ends: dict[int, int] | None = None
) -> AsyncIterator[list[Record]]:
    """Every partition from the beginning to its end offset at call time, batch by batch;
    those end offsets (partition -> offset) go into ``ends`` if given."""
    partitions = await partitions_of(settings, settings.topic("notifications.deliveries"))
    async with make_consumer(settings, group_id=None) as consumer:
        ranges = await topic_read.to_end(consumer, partitions)
        if ends is not None:
            ends.update({tp.partition: end for tp, (_, end) in ranges.items()})
        async for batch in topic_read.read(consumer, ranges):
            yield [(r.key, r.value) for r in batch]


async def rebuild(engine: Engine, settings: CommonSettings) -> dict[int, int]:
    """Every partition, whoever owns it: the read model every replica keeps (its console shows
    the whole inbox) and what a takeover starts from. Latest record per job first: superseded
    states are never decoded, and a tombstone (retention) removes its job rather than being
    skipped. Closed alerts beyond the memory window are evicted right after
    (``Engine.sweep_memory``). Returns where the read stopped (``tail`` goes on from there)."""
    latest: dict[bytes | None, bytes | None] = {}
    ends: dict[int, int] = {}
    async for records in scan(settings, ends):
        latest.update(records)
    count = 0
    for value in latest.values():
        if value is not None:
            engine.restore(decode(Notification, value))
            count += 1
    del latest
    engine.outcomes.rearm()  # before trimming: acknowledged alerts may still owe an outcome
    evicted = engine.sweep_memory()
    log.info(
        "notifier.state_rebuilt", records=count, alerts=len(engine.inbox.alerts), evicted=evicted
    )
    return ends


class KafkaArchive:
    """``Engine.archive``: look jobs up again on the deliveries topic. One scan at a time (they
    are rare: an answer to an old alert, a cancelled entry, the retention sweep)."""

    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.lock = asyncio.Lock()

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]:
        """The latest state of each job that ``match``es; ``needle`` (an id) must occur in its
        record, a cheap byte test before any decoding."""
        raw = needle.encode()
        found: dict[bytes | None, Notification | None] = {}
        async with self.lock:
            try:
                async for records in scan(self.settings):
                    for key, value in records:
                        if value is None:
                            if key in found:
                                found[key] = None
                        elif raw in value and match(job := decode(Notification, value)):
                            found[key] = job
            except KafkaError as exc:
                raise ArchiveUnavailable(f"deliveries unreadable: {type(exc).__name__}") from exc
        return [job for job in found.values() if job is not None]

    async def expired(self, cutoff: datetime, is_open: Callable[[str], bool]) -> list[Notification]:
        """Jobs final since before ``cutoff`` whose alert is not open (open alerts are always in
        memory, so ``is_open`` is exact). Holds only the candidates, never the whole topic."""
        candidates: dict[bytes, Notification] = {}
        async with self.lock:
            async for records in scan(self.settings):
                for key, value in records:
                    if key is None:
                        continue
                    if value is None:
                        candidates.pop(key, None)
                        continue
                    job = decode(Notification, value)
                    old = job.state in FINAL_STATES and job.updated_at < cutoff
                    if old and not is_open(job.alert_id):
                        candidates[key] = job
                    else:
                        candidates.pop(key, None)  # a later state supersedes an earlier one
        return list(candidates.values())
