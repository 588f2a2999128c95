"""Fixtures the integration tests share: the webhook receiver and SMTP server the notifier
delivers to, the contact-point directories written as files it reads, and a matcher process
(not started) on the test's topics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.common.settings import CommonSettings
from tests.peers.smtp import SmtpPeer
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.broker import free_port
from tests.support.console_data import console_directory
from tests.support.notifier_data import STANDARD_CONTACT_POINTS, secret_for, standard_directory
from tests.support.notifier_harness import write_directory
from tests.support.process import ServiceProcess


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """Verifies the webhooks of every contact point of the standard directory."""
    peer = WebhookReceiver(secrets={name: secret_for(name) for name in STANDARD_CONTACT_POINTS})
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpPeer]:
    peer = await SmtpPeer().start()
    yield peer
    await peer.stop()


@pytest.fixture
def directory(tmp_path: Path, receiver: WebhookReceiver) -> Path:
    """The standard directory as a file, every webhook pointing at ``receiver``."""
    return write_directory(tmp_path / "cp.yaml", standard_directory(receiver.url))


@pytest.fixture
def console_directory_path(tmp_path: Path) -> Path:
    """The console-only directory as a file: no webhooks, so no receiver."""
    return write_directory(tmp_path / "cp.yaml", console_directory())


@pytest.fixture
def matcher(topics: CommonSettings, tmp_path: Path) -> Iterator[tuple[ServiceProcess, int]]:
    """A matcher process on the test's topics and a free port; the test starts it."""
    port = free_port()
    env = {
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_MATCHER_HTTP_PORT": str(port),
        "RELAY_LOG_FORMAT": "json",
    }
    process = ServiceProcess("services.matcher", env, tmp_path / "matcher.log")
    yield process, port
    process.stop()
