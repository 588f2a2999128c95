"""A record is dead-lettered by the real fate wrapper, listed, replayed once its cause is fixed,
and then processed; a second replay sends nothing (the replay group committed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from schemas.headers import H_REASON, H_REPLAY_COUNT, H_REPLAYED_AT, H_REPLAYED_FROM, H_TOPIC
from services.common.consume import ConsumeLoop
from services.common.errors import PermanentError
from services.common.fate import FateWrapper, RetryPolicy
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.common.topic_read import Record
from tests.integration.test_ops_status import _relay


class Screening:
    """A stand-in handler whose cause of failure an operator can fix."""

    def __init__(self) -> None:
        self.fixed = False
        self.processed: list[Record] = []
        self.seen = asyncio.Event()

    async def handle(self, record: Record) -> Sequence[Any]:
        if not self.fixed:
            raise PermanentError("index not loaded for list sltd", field="document.number")
        self.processed.append(record)
        self.seen.set()
        return []


async def _end(settings: CommonSettings, topic: str) -> int:
    async with make_consumer(settings, group_id=None) as consumer:
        ends = await consumer.end_offsets(await partitions_of(settings, topic))
        return sum(ends.values())


async def test_dead_letter_is_listed_replayed_and_then_processed(
    topics: CommonSettings, unique: str
) -> None:
    source, dlq = topics.topic("events.border_crossing"), topics.topic("events.dlq")
    screening = Screening()
    async with (
        make_producer(topics) as producer,
        make_consumer(topics, source, group_id=f"matcher-{unique}") as consumer,
        make_consumer(topics, dlq, group_id=None) as dlq_watch,
    ):
        fate = FateWrapper("matcher", producer, dlq, RetryPolicy(attempts=1))
        loop = asyncio.create_task(ConsumeLoop(consumer, fate, screening.handle).run())
        try:
            value = json.dumps({"event_id": unique, "traveller": {"surname": "TESTOV"}}).encode()
            await producer.send_and_wait(
                source, value, key=b"k1", headers=[("traceparent", b"00-abc-01")]
            )
            dead = await asyncio.wait_for(dlq_watch.getone(), 30)  # the wrapper dead-letters it
            assert dead.value == value
            code, out = await _relay(topics, "dlq", "list", "events.dlq", "--json")
            assert code == 0
            [letter] = json.loads(out)
            assert letter["reason"] == "index not loaded for list sltd"
            assert letter["field"] == "document.number"
            assert (letter["original_topic"], letter["service"]) == (source, "matcher")
            assert letter["replay_count"] == 0

            code, out = await _relay(topics, "dlq", "replay", "events.dlq", "--dry-run")
            assert code == 0
            assert f"would replay {dlq}[0]@0 -> {source}" in out
            assert await _end(topics, source) == 1  # dry: nothing sent

            screening.fixed = True
            code, out = await _relay(topics, "dlq", "replay", "events.dlq", "--json")
            assert code == 0, out
            assert json.loads(out)["replayed"] == 1
            await asyncio.wait_for(screening.seen.wait(), 30)
        finally:
            loop.cancel()
    [replayed] = screening.processed
    assert replayed.value == value
    assert replayed.key == b"k1"
    headers = dict(replayed.headers)
    assert headers["traceparent"] == b"00-abc-01"
    assert headers[H_REPLAYED_FROM] == f"{dlq}:0:0".encode()
    assert headers[H_REPLAY_COUNT] == b"1"
    assert H_REPLAYED_AT in headers
    assert H_REASON not in headers
    assert H_TOPIC not in headers
    # Replaying again sends nothing: the replay group remembers.
    code, out = await _relay(topics, "dlq", "replay", "events.dlq", "--json")
    assert (code, json.loads(out)["replayed"]) == (0, 0)
    assert await _end(topics, source) == 2
