"""``relay tail`` on the real broker: ends by itself with --limit, redacts personal data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.tooling.ops.tail import TailRequest, tail
from tests.integration.test_ops_status import _relay

MRZ = "P<UZBTESTOVA<<MADINA<<<<<<<<<<<<<<<<<<<<<<<<"
EVENT = {
    "event_id": "5f0c3c55-0000-4000-8000-000000000001",
    "country": "KAZ",
    "traveller": {"surname": "TESTOVA", "given_names": "MADINA", "date_of_birth": "1990-01-02"},
    "document": {"number": "ZZ0000001", "issuing_state": "UZB", "mrz": [MRZ]},
}
ALERT = {
    "alert_id": "a-1",
    "band": "strong",
    "explanation": [{"field": "surname", "event": "TESTOVA", "entry": "Тестова", "how": "exact"}],
}
SECRETS = ("TESTOVA", "MADINA", "1990-01-02", "ZZ0000001", "Тестова", "UZBTESTOVA")


async def _put(settings: CommonSettings, *values: dict[str, Any]) -> None:
    async with make_producer(settings) as producer:
        for value in values:
            await producer.send_and_wait(
                settings.topic("alerts"), json.dumps(value).encode(), partition=0
            )


async def test_tail_with_limit_prints_redacted_records(topics: CommonSettings) -> None:
    await _put(topics, EVENT, ALERT, {"third": 3})
    code, out = await _relay(topics, "tail", "alerts", "--from-beginning", "--limit", "2", "--json")
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["value"]["traveller"]["surname"] == "[redacted]"
    assert first["value"]["document"]["number"] == "[redacted]"
    assert first["value"]["document"]["mrz"] == "[redacted]"
    assert first["value"]["country"] == "KAZ"
    assert second["value"]["explanation"][0] == {
        "field": "surname", "event": "[redacted]", "entry": "[redacted]", "how": "exact"
    }  # fmt: skip
    code, pretty = await _relay(topics, "tail", "alerts", "--from-beginning", "--limit", "3")
    assert code == 0
    assert "alert_id" in pretty
    assert '"third": 3' in pretty
    assert not [s for s in SECRETS if s in out + pretty]
    code, shown = await _relay(
        topics, "tail", "alerts", "--from-beginning", "--limit", "1", "--json", "--show-pii"
    )
    assert json.loads(shown)["value"] == EVENT


async def test_tail_follows_records_produced_after_it_started(topics: CommonSettings) -> None:
    await _put(topics, {"old": True})
    seen: list[dict[str, Any]] = []
    ready = asyncio.Event()
    task = asyncio.create_task(
        tail(topics, TailRequest(topic="alerts", limit=1), seen.append, ready.set)
    )
    await asyncio.wait_for(ready.wait(), 30)
    await _put(topics, {"new": True})
    assert await asyncio.wait_for(task, 30) == 1
    assert [v["value"] for v in seen] == [{"new": True}]


async def test_tail_of_an_unknown_topic_exits_2(topics: CommonSettings) -> None:
    code, _ = await _relay(topics, "tail", "no.such.topic", "--limit", "1")
    assert code == 2
