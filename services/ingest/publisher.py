"""Publishing canonical events: acknowledged by the broker, bounded in flight, resends skipped.

An event counts as accepted only when the broker acknowledged it (idempotent producer,
acks=all). Everything else - a timeout, a broker error, no room - is ``UNAVAILABLE``, and the
caller answers 503: the event may or may not have been stored, and the sender must resend it
(the same ``event_id``, which downstream de-duplication makes harmless).

Records go through ``services.common.batches``: the events of a request (and of concurrent
requests) share a batch per topic-partition and its future, instead of a ``producer.send``
each; they are still answered only once their batch is stored.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.codec import schema_header
from schemas.event import Event
from schemas.headers import H_AGENCY, H_EVENT_ID
from schemas.outcomes import IngestOutcome
from services.common.batches import Batches, KeyPartitioner
from services.common.logging import get_logger
from services.ingest.domain.intake import Prepared
from services.ingest.domain.keys import TOPIC_BY_TYPE
from services.ingest.domain.recent import RecentIds
from services.ingest.metrics import IN_FLIGHT, agency_accepted
from services.ingest.settings import IngestSettings

log = get_logger(__name__)


@dataclass
class Publisher:
    """Call ``start`` before the first send and ``flush`` before the producer stops."""

    producer: AIOKafkaProducer
    settings: IngestSettings
    recent: RecentIds
    in_flight: int = 0
    _schema: tuple[str, bytes] = field(default_factory=lambda: schema_header(Event))
    # Keys are per traveller, rarely repeated close together: a small cache of their hashes.
    _batches: Batches = field(init=False)

    def __post_init__(self) -> None:
        self._batches = Batches(self.producer, KeyPartitioner(size=1024))

    async def start(self) -> None:
        """Learn the partitions of the canonical topics (the producer fetches metadata)."""
        await self._batches.start([self.settings.topic(t) for t in TOPIC_BY_TYPE.values()])

    async def flush(self) -> None:
        """Shutdown: every event handed over has been stored or has failed."""
        await self._batches.flush()

    def reserve(self, count: int) -> bool:
        """Claim room for ``count`` events; False when that would exceed the bound."""
        if self.in_flight + count > self.settings.ingest_max_in_flight:
            return False
        self.in_flight += count
        IN_FLIGHT.set(self.in_flight)
        return True

    def claim(self, count: int = 1) -> None:
        """Count events in flight without a bound (the raw consumer bounds itself by poll size)."""
        self.in_flight += count
        IN_FLIGHT.set(self.in_flight)

    def release(self, count: int = 1) -> None:
        self.in_flight -= count
        IN_FLIGHT.set(self.in_flight)

    def _settled(self, event_id: str, future: asyncio.Future[Any]) -> None:
        self.release()
        if future.cancelled():
            return
        if future.exception() is None:  # also marks a late failure as retrieved
            self.recent.add(event_id)

    def send(self, item: Prepared, agency_id: str) -> asyncio.Future[Any]:
        """Enqueue one event (room already reserved); the future settles on the broker's ack.

        The future is its batch's, shared with the other events of that batch.
        """
        event_id = item.event.event_id
        headers = [self._schema, (H_AGENCY, agency_id.encode()), (H_EVENT_ID, event_id.encode())]
        try:
            future = self._batches.add(
                self.settings.topic(item.topic), item.key, item.value, headers
            )
        except BaseException:
            self.release()
            raise
        future.add_done_callback(functools.partial(self._settled, event_id))
        return future

    async def publish(self, items: Sequence[Prepared], agency_id: str) -> list[IngestOutcome]:
        """Send all, then wait for all: one outcome per item. Room for all must be reserved."""
        outcomes = [IngestOutcome.UNAVAILABLE] * len(items)
        futures: dict[int, asyncio.Future[Any]] = {}
        first: dict[str, int] = {}
        unsent = len(items)
        try:
            async with asyncio.timeout(self.settings.ingest_send_timeout_s):
                for index, item in enumerate(items):
                    event_id = item.event.event_id
                    if event_id in self.recent:
                        outcomes[index] = IngestOutcome.DUPLICATE
                        continue
                    if event_id in first:
                        continue
                    first[event_id] = index
                    unsent -= 1  # send() releases its own slot, whatever happens
                    futures[index] = self.send(item, agency_id)
                if futures:
                    await asyncio.wait(set(futures.values()))
        except (TimeoutError, KafkaError) as exc:
            log.warning("publish.unavailable", error=type(exc).__name__, events=len(items))
        self.release(unsent)
        for index, future in futures.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                outcomes[index] = IngestOutcome.ACCEPTED
        for index, item in enumerate(items):
            origin = first.get(item.event.event_id)
            # The same id twice in one batch: the later ones share the first one's fate.
            if origin is not None and origin != index:
                accepted = outcomes[origin] is IngestOutcome.ACCEPTED
                outcomes[index] = IngestOutcome.DUPLICATE if accepted else IngestOutcome.UNAVAILABLE
        agency_accepted(agency_id, sum(outcome is IngestOutcome.ACCEPTED for outcome in outcomes))
        return outcomes
