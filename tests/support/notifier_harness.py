"""Helpers for notifier integration tests: settings, directory files, producing and reading."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from aiokafka import ConsumerRecord

from schemas.alert import Alert, alert_key
from schemas.codec import encode, schema_header
from schemas.topics import TopicName
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.notifier.settings import NotifierSettings
from tests.support.accounts import accounts_beside

# Made per test run: no test relies on a secret anybody could read in the code.
LINK_SECRET = secrets.token_urlsafe(32)
SESSION_SECRET = secrets.token_urlsafe(32)


def notifier_settings(base: CommonSettings, directory: Path, **extra: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap": base.kafka_bootstrap,
        "topic_prefix": base.topic_prefix,
        "notifier_http_port": 0,
        "notifier_directory_path": directory,
        "notifier_directory_poll_s": 0.2,
        "notifier_group_id": "notifier",  # the app prefixes it with the topic prefix
        "notifier_retry_base_s": 0.2,
        "notifier_retry_max_s": 2.0,
        "notifier_breaker_open_s": 1.0,
        "notifier_webhook_timeout_s": 2.0,
        "notifier_link_secret": LINK_SECRET,
        "notifier_session_secret": SESSION_SECRET,
        **extra,
    }
    if "notifier_accounts_path" not in values:
        values["notifier_accounts_path"] = accounts_beside(directory)
    return NotifierSettings.model_validate(values)


def write_directory(path: Path, directory: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(directory), encoding="utf-8")
    return path


async def produce_alerts(settings: CommonSettings, alerts: list[Alert]) -> None:
    async with make_producer(settings) as producer:
        for alert in alerts:
            await producer.send(
                settings.topic("alerts"), encode(alert), key=alert_key(alert.entry_id),
                headers=[schema_header(Alert)],
            )  # fmt: skip
        await producer.flush()


async def produce(
    settings: CommonSettings, topic: TopicName, key: bytes, value: bytes | None
) -> None:
    async with make_producer(settings) as producer:
        await producer.send_and_wait(settings.topic(topic), value, key=key)


async def read_until(
    settings: CommonSettings,
    topic: TopicName,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    within_s: float = 30,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from the beginning until ``done(records)``; TimeoutError otherwise."""
    name = settings.topic(topic)
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        parts = await partitions_of(settings, name)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)

        async def loop() -> None:
            while not done(records):
                batch = await consumer.getmany(timeout_ms=200)
                for items in batch.values():
                    records.extend(items)

        await asyncio.wait_for(loop(), within_s)
    finally:
        await consumer.stop()
    return records
