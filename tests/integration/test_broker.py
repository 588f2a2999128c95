"""The foundation: the real local broker, the topic catalogue, durability across a kill -9."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from schemas.topics import load_catalogue
from services.common.kafka import admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings
from services.tooling.kafka_local import LocalBroker
from services.tooling.topics import Change, apply_catalogue
from tests.support.broker import local_broker_settings


async def test_produce_and_consume_on_the_real_broker(topics: CommonSettings, unique: str) -> None:
    topic = topics.topic("alerts")
    async with make_producer(topics) as producer:
        for index in range(100):
            await producer.send_and_wait(topic, f"value-{index}".encode(), key=f"k{index}".encode())
    received: list[bytes] = []
    async with make_consumer(topics, topic, group_id=f"g-{unique}") as consumer:
        while len(received) < 100:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 20)
            for records in batch.values():
                received.extend(record.value for record in records)
    assert sorted(received) == sorted(f"value-{i}".encode() for i in range(100))


async def test_topics_apply_is_idempotent_and_reports_drift(settings: CommonSettings) -> None:
    catalogue = load_catalogue()
    async with admin_client(settings) as admin:
        first = await apply_catalogue(admin, catalogue, settings.topic_prefix)
        second = await apply_catalogue(admin, catalogue, settings.topic_prefix)
        assert {r.changes[0] for r in first} == {Change.CREATED}
        assert {tuple(r.changes) for r in second} == {(Change.UNCHANGED,)}
        # Someone changes retention by hand: apply puts the catalogue value back.
        alerts = catalogue.get("alerts")
        changed = alerts.model_copy(update={"config": {**alerts.config, "retention.ms": "1000"}})
        drifted = catalogue.model_copy(update={"topics": [changed]})
        await apply_catalogue(admin, drifted, settings.topic_prefix)
        [restored] = await apply_catalogue(
            admin, catalogue.model_copy(update={"topics": [alerts]}), settings.topic_prefix
        )
        assert restored.changes == [Change.CONFIG_UPDATED]
        # Fewer partitions than exist cannot be applied: reported as drift.
        fewer = alerts.model_copy(update={"partitions": 2})
        [report] = await apply_catalogue(
            admin, catalogue.model_copy(update={"topics": [fewer]}), settings.topic_prefix
        )
        assert Change.DRIFT in report.changes


@pytest.mark.slow  # a broker of its own, killed: make test-faults (the suite's budget)
@pytest.mark.timeout(240)
async def test_kill_9_keeps_topics_and_committed_offsets(tmp_path: Path) -> None:
    broker = LocalBroker(local_broker_settings(tmp_path / "kafka"))
    await asyncio.to_thread(broker.start)
    settings = CommonSettings(kafka_bootstrap=broker.bootstrap, topic_prefix="durable.")
    topic = settings.topic("events.border_crossing")
    try:
        async with admin_client(settings) as admin:
            await apply_catalogue(admin, load_catalogue(), settings.topic_prefix)
        async with make_producer(settings) as producer:
            for index in range(50):
                await producer.send_and_wait(topic, b"x", key=str(index).encode())
        async with make_consumer(settings, topic, group_id="durable-group") as consumer:
            seen = 0
            while seen < 50:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 20)
                seen += sum(len(records) for records in batch.values())
            await consumer.commit()
            committed = {tp: await consumer.committed(tp) for tp in consumer.assignment()}

        broker.kill()
        assert broker.running_pid() is None
        await asyncio.to_thread(broker.start)

        async with admin_client(settings) as admin:
            assert set(load_catalogue().names()) <= {
                name.removeprefix("durable.") for name in await admin.list_topics()
            }
            # After an unclean stop the coordinator reloads __consumer_offsets; until it has,
            # the group reads as empty. Wait for it (bounded) - lost offsets never appear.
            offsets: dict[TopicPartition, int] = {}
            deadline = time.monotonic() + 60
            while not offsets and time.monotonic() < deadline:
                found = await admin.list_consumer_group_offsets("durable-group")
                offsets = {tp: meta.offset for tp, meta in found.items()}
                if not offsets:
                    await asyncio.sleep(0.5)
        assert offsets == committed
        assert sum(committed.values()) == 50
        assert all(isinstance(tp, TopicPartition) for tp in committed)
    finally:
        broker.stop()


def test_relay_kafka_status_reports_version_and_quorum(kafka_bootstrap: str) -> None:
    """Runs the real CLI against a broker it did not start: its own, on a free port."""
    del kafka_bootstrap  # the session broker stays up; status runs against a second one
    settings = local_broker_settings(
        Path(subprocess.check_output(["mktemp", "-d"]).decode().strip())
    )
    env = {
        "RELAY_KAFKA_LOCAL_PORT": str(settings.kafka_local_port),
        "RELAY_KAFKA_LOCAL_CONTROLLER_PORT": str(settings.kafka_local_controller_port),
        "RELAY_KAFKA_LOCAL_DATA_DIR": str(settings.kafka_local_data_dir),
        "PATH": "/usr/bin:/bin",
    }
    relay = [sys.executable, "-m", "services.cli.main"]
    try:
        up = subprocess.run(
            [*relay, "kafka", "up"], env=env, capture_output=True, text=True, timeout=180
        )
        assert up.returncode == 0, up.stderr
        status = subprocess.run(
            [*relay, "kafka", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert status.returncode == 0, status.stderr
        assert '"version": "4.' in status.stdout
        assert '"controller_leader_id": 1' in status.stdout
    finally:
        down = subprocess.run(
            [*relay, "kafka", "down"], env=env, capture_output=True, text=True, timeout=60
        )
        assert "broker stopped" in down.stderr
    assert LocalBroker(settings).running_pid() is None
