"""What the handlers share at run time: agencies, rate limits, the publisher, readiness."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.ingest.agencies import AgenciesFile
from services.ingest.domain.agencies import Agency
from services.ingest.domain.ratelimit import TokenBucket
from services.ingest.metrics import READY
from services.ingest.publisher import Publisher
from services.ingest.settings import IngestSettings


@dataclass
class Limiter:
    """One token bucket per agency (per process; behind a load balancer, per replica)."""

    settings: IngestSettings
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def burst(self, agency: Agency) -> int:
        """The most events the agency may send at once: a bigger batch can never pass."""
        return int(agency.burst or self.settings.ingest_rate_burst)

    def take(self, agency: Agency, count: int) -> float:
        """0 when the agency may send ``count`` events now, else seconds to wait.

        Every event costs a token, in a batch too: charging a batch less than its size would
        let batches through at many times the agency's rate. Callers refuse a ``count`` above
        ``burst`` first; the bucket would only ever answer it with a wait.
        """
        now = time.monotonic()
        rate = agency.rate_per_s or self.settings.ingest_rate_per_s
        burst = agency.burst or self.settings.ingest_rate_burst
        bucket = self.buckets.get(agency.id)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = self.buckets[agency.id] = TokenBucket.full(rate, burst, now)
        return bucket.take(count, now)


@dataclass
class Readiness:
    """Is the broker reachable? A metadata request, its answer trusted for a second."""

    producer: AIOKafkaProducer
    ttl_s: float
    checked_at: float = float("-inf")
    ready: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def check(self) -> bool:
        async with self._lock:  # one probe at a time, however many callers
            if time.monotonic() - self.checked_at < self.ttl_s:
                return self.ready
            try:
                await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=2.0)
            except (KafkaError, TimeoutError, OSError):
                self.ready = False
            else:
                self.ready = True
            self.checked_at = time.monotonic()
            READY.set(1 if self.ready else 0)
            return self.ready


@dataclass
class Runtime:
    settings: IngestSettings
    agencies: AgenciesFile
    limiter: Limiter
    publisher: Publisher
    readiness: Readiness
    raw_task: asyncio.Task[None] | None = None

    def raw_state(self) -> str:
        if self.raw_task is None:
            return "disabled"
        if self.raw_task.done():
            return "stopped"
        return "running"
