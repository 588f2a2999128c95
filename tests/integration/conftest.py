"""Fixtures the notifier's integration tests share: the webhook receiver and SMTP server they
deliver to, and the contact-point directories written as files the notifier reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.peers.smtp import SmtpPeer
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.console_data import console_directory
from tests.support.notifier_data import STANDARD_CONTACT_POINTS, secret_for, standard_directory
from tests.support.notifier_harness import write_directory


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
