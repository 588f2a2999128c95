"""Fixtures for the session's Kafka broker and each test's own topics (a ``pytest_plugins``
module of ``tests/conftest.py``), with the free-port helpers the broker is started with."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.topics import load_catalogue
from services.common.kafka import admin_client
from services.common.settings import CommonSettings
from services.tooling.kafka_local import LocalBroker, LocalBrokerSettings
from services.tooling.topics import apply_catalogue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def local_broker_settings(data_dir: Path) -> LocalBrokerSettings:
    """Settings for a throw-away broker on free ports, not read from the environment."""
    return LocalBrokerSettings(
        kafka_local_port=free_port(),
        kafka_local_controller_port=free_port(),
        kafka_local_data_dir=data_dir,
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The broker every integration test talks to: RELAY_KAFKA_BOOTSTRAP, or our own."""
    external = os.environ.get("RELAY_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    broker = LocalBroker(local_broker_settings(tmp_path_factory.mktemp("kafka")))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def unique() -> str:
    """A short id that makes this test's topics and groups its own."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings(kafka_bootstrap: str, unique: str) -> CommonSettings:
    return CommonSettings(kafka_bootstrap=kafka_bootstrap, topic_prefix=f"t-{unique}.")


@pytest.fixture
async def topics(settings: CommonSettings) -> CommonSettings:
    """The whole topic catalogue, created under this test's own prefix."""
    async with admin_client(settings) as admin:
        await apply_catalogue(admin, load_catalogue(), settings.topic_prefix)
    return settings
