"""Sending simulated traffic: paced by a token bucket, to ingest's HTTP batch endpoint or to the
``ingest.raw`` topic, with bounded concurrency and a once-a-second report on stderr."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from schemas.intake import signed_headers
from services.demo.simulate import Generated


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.errors += other.errors


class Sink(Protocol):
    async def send(self, agency: str, batch: list[Generated]) -> Tally: ...


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = 0.0
    last: float = field(default=-1.0)

    def available(self) -> int:
        now = self.clock()
        if self.last < 0:
            self.last = now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return int(self.tokens)

    def take(self, count: int) -> None:
        self.tokens -= count


def _item_tally(results: list[dict[str, Any]]) -> Tally:
    tally = Tally(sent=len(results))
    for item in results:
        status = item.get("status")
        if status == 202:
            tally.accepted += 1
        elif status in (403, 422):
            tally.rejected += 1
        else:
            tally.errors += 1
    return tally


def batch_tally(status: int, body: bytes, size: int) -> Tally:
    """What one batch response says: per-event results when there are, else the status."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    results = parsed.get("results") if isinstance(parsed, dict) else None
    if isinstance(results, list) and len(results) == size:
        return _item_tally([r for r in results if isinstance(r, dict)])
    if status in (429, 503) or status >= 500:
        return Tally(sent=size, errors=size)
    if 200 <= status < 300:
        return Tally(sent=size, accepted=size)
    return Tally(sent=size, rejected=size)


def _json(item: Generated) -> bytes:
    return item.value if isinstance(item.value, bytes) else orjson.dumps(item.value)


@dataclass
class HttpSink:
    client: httpx.AsyncClient
    keys: dict[str, str]  # agency id -> API key

    async def send(self, agency: str, batch: list[Generated]) -> Tally:
        body = b'{"events":[' + b",".join(_json(item) for item in batch) + b"]}"
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {self.keys.get(agency, '')}",
        }
        try:
            response = await self.client.post("/v1/events:batch", content=body, headers=headers)
        except httpx.HTTPError:
            return Tally(sent=len(batch), errors=len(batch))
        return batch_tally(response.status_code, response.content, len(batch))


@dataclass
class KafkaSink:
    """Signs each record as its agency (``schemas.intake``): ingest refuses unsigned ones."""

    producer: Any  # AIOKafkaProducer
    topic: str
    secrets: dict[str, str]  # agency id -> intake secret

    async def send(self, agency: str, batch: list[Generated]) -> Tally:
        secret = self.secrets.get(agency)
        if secret is None:  # nothing to sign with: not sent, counted as errors
            return Tally(sent=len(batch), errors=len(batch))
        futures = []
        now = int(time.time())
        for item in batch:
            key = item.event_id.encode() if item.event_id else None
            value = _json(item)
            headers = signed_headers(agency, secret, key, value, now)
            futures.append(await self.producer.send(self.topic, value, key=key, headers=headers))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failed = sum(1 for o in outcomes if isinstance(o, BaseException))
        return Tally(sent=len(batch), accepted=len(batch) - failed, errors=failed)


@dataclass(frozen=True)
class Pace:
    rate: float
    duration_s: float | None
    count: int | None
    batch_size: int = 100
    concurrency: int = 16
    tick_s: float = 0.02  # how often the bucket is read; batches leave at least this often


@dataclass
class Run:
    """The sending loop's state; ``report`` prints a line a second."""

    pace: Pace
    produce: Callable[[], tuple[str, Generated]]  # -> (agency, item)
    record: Callable[[Generated, float], None] | None = None
    total: Tally = field(default_factory=Tally)
    second: Tally = field(default_factory=Tally)
    sorts: Counter[str] = field(default_factory=Counter)
    generated: int = 0

    def _done(self, started: float) -> bool:
        if self.pace.count is not None and self.generated >= self.pace.count:
            return True
        return (
            self.pace.duration_s is not None and time.monotonic() - started >= self.pace.duration_s
        )

    def _take(self, wanted: int) -> dict[str, list[Generated]]:
        if self.pace.count is not None:
            wanted = min(wanted, self.pace.count - self.generated)
        batches: dict[str, list[Generated]] = defaultdict(list)
        now = time.time()
        for _ in range(wanted):
            agency, item = self.produce()
            self.sorts[item.sort.value] += 1
            if self.record is not None:
                self.record(item, now)
            batches[agency].append(item)
        self.generated += wanted
        return batches

    async def _send(
        self, sink: Sink, limit: asyncio.Semaphore, agency: str, batch: list[Generated]
    ) -> None:
        try:
            tally = await sink.send(agency, batch)
        finally:
            limit.release()
        self.total.add(tally)
        self.second.add(tally)

    async def run(self, sink: Sink) -> float:
        """Send until the duration or count is reached; returns the elapsed seconds."""
        bucket = TokenBucket(self.pace.rate, max(self.pace.rate * self.pace.tick_s * 5, 1.0))
        limit = asyncio.Semaphore(self.pace.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        reporter = asyncio.create_task(self._report(started))
        while not self._done(started):
            ready = bucket.available()
            if ready:
                bucket.take(ready)
                for agency, items in self._take(ready).items():
                    for i in range(0, len(items), self.pace.batch_size):
                        await limit.acquire()  # back-pressure: the rate drops, reported
                        task = asyncio.create_task(
                            self._send(sink, limit, agency, items[i : i + self.pace.batch_size])
                        )
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            await asyncio.sleep(self.pace.tick_s)  # pacing the generator, not waiting on a result
        await asyncio.gather(*tasks)
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
        self._print_second(time.monotonic() - started)
        return time.monotonic() - started

    def _print_second(self, elapsed: float) -> None:
        s = self.second
        sys.stderr.write(
            f"t={elapsed:6.1f}s sent/s={s.sent} accepted/s={s.accepted} "
            f"rejected/s={s.rejected} errors/s={s.errors} total_sent={self.total.sent}\n"
        )
        sys.stderr.flush()
        self.second = Tally()

    async def _report(self, started: float) -> None:
        while True:
            await asyncio.sleep(1.0)  # the report's period
            self._print_second(time.monotonic() - started)


async def with_http(
    url: str, keys: dict[str, str], use: Callable[[Sink], Awaitable[float]], concurrency: int
) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        return await use(HttpSink(client, keys))
