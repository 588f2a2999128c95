"""The streaming matcher's small parts: back-pressure on unconfirmed events, faust's message
as the fate wrapper's record."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.matcher.faust_app import InFlight
from services.matcher.records import FaustRecord


async def test_in_flight_waits_while_too_many_events_are_unconfirmed() -> None:
    in_flight = InFlight(limit=10)
    first_stored = asyncio.Event()
    second_stored = asyncio.Event()

    async def confirm(stored: asyncio.Event) -> None:
        await stored.wait()

    await asyncio.wait_for(in_flight.add(confirm(first_stored), 6), 1)  # 6 < 10: no wait
    adding = asyncio.create_task(in_flight.add(confirm(second_stored), 6))  # 12 >= 10: waits
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not adding.done()
    assert in_flight.events == 12
    first_stored.set()
    await asyncio.wait_for(adding, 1)
    assert in_flight.events == 6
    pending = list(in_flight.tasks)
    in_flight.cancel()
    await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 1)
    await asyncio.sleep(0)  # done-callbacks run on the loop's next turn
    assert in_flight.events == 0
    assert not in_flight.tasks


def test_faust_record_reads_the_message_as_aiokafka_does() -> None:
    message = SimpleNamespace(
        topic="p.events.border_crossing", partition=3, offset=41, timestamp=1764000000.123,
        key=b"k", value=b"{}", headers={"relay-schema": b"event/1"},
    )  # fmt: skip
    record = FaustRecord(message)
    assert (record.topic, record.partition, record.offset) == ("p.events.border_crossing", 3, 41)
    assert record.timestamp == 1764000000123
    assert (record.key, record.value) == (b"k", b"{}")
    assert list(record.headers) == [("relay-schema", b"event/1")]
    message.headers = [("a", b"1")]
    assert list(record.headers) == [("a", b"1")]
    message.headers = None
    assert list(record.headers) == []
