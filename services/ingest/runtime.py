"""What the handlers share at run time: agencies, rate limits, the publisher."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from services.ingest.agencies_file import AgenciesFile
from services.ingest.domain.agencies import Agency
from services.ingest.domain.ratelimit import TokenBucket
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
class Runtime:
    settings: IngestSettings
    agencies: AgenciesFile
    limiter: Limiter
    publisher: Publisher
    raw_task: asyncio.Task[None] | None = None

    def raw_state(self) -> str:
        if self.raw_task is None:
            return "disabled"
        if self.raw_task.done():
            return "stopped"
        return "running"
