"""The false-match suppressions as every reader needs them: the whole compacted
``suppressions`` topic, rebuilt from its start and then followed (no consumer group).

The matcher asks it, per name-based match, whether the pair is silenced at the event's
country; the notifier's console lists, confirms and revokes them from it. Expiry is decided
when asked (``Suppression.silences``), so an expired pair alerts again without a new record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError

from schemas.codec import decode
from schemas.suppression import Suppression, TravellerIdentity, suppression_id_for
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings

log = get_logger(__name__)

FOLLOW_POLL_MS = 100  # a confirmed or revoked suppression applies within a fraction of a second


class SuppressionTable:
    """``run`` is a task of its own; ``caught_up`` is set once the topic was read to its end."""

    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self.topic = settings.topic("suppressions")
        self.by_id: dict[str, Suppression] = {}
        self.caught_up = asyncio.Event()
        self.unreadable = 0
        self._changed = asyncio.Event()

    def silencing(
        self, country: str, entry_id: str, identity: TravellerIdentity | None, now: datetime
    ) -> Suppression | None:
        """The suppression that silences this pair at this country's posts now, if any."""
        if identity is None or not self.by_id:
            return None
        found = self.by_id.get(suppression_id_for(country, entry_id, identity))
        return found if found is not None and found.silences(now) else None

    async def until(self, done: Callable[[dict[str, Suppression]], bool]) -> None:
        """Return once ``done(by_id)`` holds (the caller bounds the wait)."""
        while not done(self.by_id):
            self._changed.clear()
            await self._changed.wait()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        self._changed.set()
        if value is None:  # a tombstone: the pair is forgotten
            if key is not None:
                self.by_id.pop(key.decode(errors="replace"), None)
            return
        try:
            item = decode(Suppression, value)
        except (ValidationError, ValueError):
            self.unreadable += 1
            log.warning("suppression.unreadable")
            return
        self.by_id[item.suppression_id] = item

    async def run(self) -> None:
        partitions = await partitions_of(self.settings, self.topic)
        async with make_consumer(self.settings, group_id=None) as consumer:
            ranges = await topic_read.to_end(consumer, partitions)
            async for batch in topic_read.read(consumer, ranges):
                for record in batch:
                    self.apply(record.key, record.value)
            self.caught_up.set()
            log.info("suppressions.read", suppressions=len(self.by_id))
            while True:  # the partitions stay assigned past their ends
                polled = await consumer.getmany(timeout_ms=FOLLOW_POLL_MS, max_records=1000)
                for records in polled.values():
                    for record in records:
                        self.apply(record.key, record.value)
