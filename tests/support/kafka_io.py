"""Small helpers for integration tests: produce JSON, collect records until a condition holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from schemas.intake import signed_headers
from services.common.kafka import make_consumer, make_producer
from services.common.settings import CommonSettings


async def produce_json(
    settings: CommonSettings,
    topic: str,
    items: Sequence[tuple[str | None, Any]],
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Produce (key, value) pairs; a value of None is a tombstone, bytes are sent as they are."""
    async with make_producer(settings) as producer:
        futures = []
        for key, value in items:
            payload = value if value is None or isinstance(value, bytes) else orjson.dumps(value)
            futures.append(
                await producer.send(
                    topic, payload, key=key.encode() if key else None, headers=list(headers)
                )
            )
        await asyncio.gather(*futures)


async def produce_signed(
    settings: CommonSettings,
    topic: str,
    items: Sequence[tuple[str | None, Any]],
    agency: str,
    secret: str,
) -> None:
    """Produce (key, value) pairs as a raw intake producer does: each signed by ``agency``."""
    async with make_producer(settings) as producer:
        futures = []
        for key, value in items:
            payload = value if isinstance(value, bytes) else orjson.dumps(value)
            raw_key = key.encode() if key else None
            headers = signed_headers(agency, secret, raw_key, payload, int(time.time()))
            futures.append(await producer.send(topic, payload, key=raw_key, headers=headers))
        await asyncio.gather(*futures)


class TopicReader:
    """Reads a topic from the beginning (no group) and keeps everything it has seen."""

    def __init__(self, settings: CommonSettings, topic: str) -> None:
        self.consumer = make_consumer(settings, topic, group_id=None)
        self.records: list[ConsumerRecord[bytes, bytes]] = []

    async def __aenter__(self) -> TopicReader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def until(
        self,
        done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        timeout_s: float = 30.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Collect until ``done(records)`` holds; fail after the timeout."""
        deadline = time.monotonic() + timeout_s
        while not done(self.records):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"condition not met in {timeout_s}s; saw {len(self.records)}")
            batch = await self.consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for records in batch.values():
                self.records.extend(records)
        return self.records

    def values(self) -> list[Any]:
        return [orjson.loads(r.value) for r in self.records if r.value is not None]


def header_map(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers or ()}
