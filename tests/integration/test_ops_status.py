"""``relay status`` on the real broker: lag of a group that stopped consuming, DLQ growth."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata
from typer.testing import CliRunner

from services.cli.main import app
from services.common.kafka import make_consumer, make_producer
from services.common.settings import CommonSettings


def _env(settings: CommonSettings) -> dict[str, str]:
    return {"RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "RELAY_TOPIC_PREFIX": settings.topic_prefix}  # fmt: skip


async def _relay(settings: CommonSettings, *args: str) -> tuple[int, str]:
    """Runs the real CLI (in a thread: it has its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=_env(settings))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


async def _status(settings: CommonSettings, state: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out = await _relay(
        settings, "status", "--json", "--sample-seconds", "0", "--state-file", str(state), *extra
    )
    report: dict[str, Any] = json.loads(out)
    return code, report


async def _stopped_group(settings: CommonSettings, group: str) -> None:
    """A group that read alerts, committed part of them, and left (members 0)."""
    topic = settings.topic("alerts")
    async with make_producer(settings) as producer:
        for i in range(10):
            await producer.send_and_wait(topic, b'{"n": %d}' % i, partition=0)
        for i in range(5):
            await producer.send_and_wait(topic, b'{"n": %d}' % i, partition=1)
    async with make_consumer(settings, topic, group_id=group) as consumer:
        while not consumer.assignment():
            await asyncio.wait_for(consumer.getmany(timeout_ms=500), 20)
        await consumer.commit({
            TopicPartition(topic, 0): OffsetAndMetadata(4, ""),
            TopicPartition(topic, 1): OffsetAndMetadata(5, ""),
        })  # fmt: skip


async def test_status_reports_lag_of_a_stopped_group_and_fails(
    topics: CommonSettings, unique: str, tmp_path: Path
) -> None:
    group = f"notifier-{unique}"
    await _stopped_group(topics, group)
    code, report = await _status(topics, tmp_path / "state.json", "--max-lag", "5")
    assert code == 1
    assert report["healthy"] is False
    [status] = [g for g in report["groups"] if g["group"] == group]
    assert status["members"] == 0
    assert status["lag"] == 6
    lag = {(p["topic"], p["partition"]): (p["committed"], p["end"], p["lag"])
           for p in status["partitions"]}  # fmt: skip
    alerts = topics.topic("alerts")
    assert lag[(alerts, 0)] == (4, 10, 6)
    assert lag[(alerts, 1)] == (5, 5, 0)
    assert lag[(alerts, 2)] == (None, 0, 0)
    kinds = {(p["kind"], p["subject"]) for p in report["problems"]}
    assert kinds == {("lag", group), ("no_members", group)}
    assert report["alert_backlog"] == 6
    assert report["alert_groups"] == [group]
    messages = {t["name"]: t["messages"] for t in report["topics"]}
    assert messages["alerts"] == 15
    assert messages["events.dlq"] == 0
    retention = {t["name"]: t["retention_ms"] for t in report["topics"]}
    assert retention["alerts"] == "31536000000"
    # Within the thresholds the same state is healthy.
    code, report = await _status(
        topics, tmp_path / "state.json", "--max-lag", "6", "--allow-empty-groups"
    )
    assert (code, report["problems"]) == (0, [])


async def test_status_fails_when_a_dead_letter_topic_grows(
    topics: CommonSettings, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    code, first = await _status(topics, state)
    assert code == 0, first["problems"]
    async with make_producer(topics) as producer:
        for _ in range(3):
            await producer.send_and_wait(topics.topic("events.dlq"), b"{}")
    code, second = await _status(topics, state)
    assert code == 1
    assert second["dead_letters"][topics.topic("events.dlq")] == 3
    [problem] = second["problems"]
    assert (problem["kind"], problem["subject"]) == ("dlq_growth", topics.topic("events.dlq"))
    assert problem["detail"] == "+3 since the last sample"
    rates = {t["name"]: t["rate_per_s"] for t in second["topics"]}
    assert rates["events.dlq"] > 0
    assert rates["alerts"] == 0
    # Nothing new since: healthy again.
    code, third = await _status(topics, state)
    assert (code, third["problems"]) == (0, [])
