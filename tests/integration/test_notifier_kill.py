"""SIGKILL mid-stream: the notifier runs as `python -m services.notifier`, is killed with -9 while
deliveries are retrying, restarted, and every expected webhook-id still arrives; a forbidden
country never receives anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.notification import notification_id_for
from services.common.settings import CommonSettings
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.broker import free_port
from tests.support.notifier_data import STANDARD_CONTACT_POINTS, make_alert
from tests.support.notifier_harness import (
    LINK_SECRET,
    SESSION_SECRET,
    produce_alerts,
)


class Notifier:
    """The notifier as a child process; stopped by pid (never by name)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.notifier"], env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def notifier(topics: CommonSettings, directory: Path, tmp_path: Path) -> Iterator[Notifier]:
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_NOTIFIER_HTTP_PORT": str(free_port()),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(directory),
        "RELAY_NOTIFIER_GROUP_ID": "notifier",  # prefixed with RELAY_TOPIC_PREFIX by the app
        "RELAY_NOTIFIER_RETRY_BASE_S": "0.2",
        "RELAY_NOTIFIER_RETRY_MAX_S": "1",
        "RELAY_NOTIFIER_BREAKER_OPEN_S": "0.5",
        "RELAY_LOG_FORMAT": "json",
        "RELAY_NOTIFIER_LINK_SECRET": LINK_SECRET,
        "RELAY_NOTIFIER_SESSION_SECRET": SESSION_SECRET,
    }
    child = Notifier(env, tmp_path / "notifier.log")
    yield child
    child.stop()


def expected_ids(open_alerts: list, restricted: list) -> dict[str, set[str]]:  # type: ignore[type-arg]
    """Derived from the routing rules, not from the notifier's own state."""
    want: dict[str, set[str]] = {"KAZ-NCB": set(), "UZB-NCB": set(), "XPO-CC": set()}
    for a in open_alerts:  # event KAZ, issuer UZB, urgent -> + coordination centre
        for cp in ("KAZ-NCB", "UZB-NCB", "XPO-CC"):
            want[cp].add(notification_id_for(a.alert_id, cp, "webhook"))
    for a in restricted:  # event TJK, issuer UZB, restricted to KAZ -> only the issuer
        want["UZB-NCB"].add(notification_id_for(a.alert_id, "UZB-NCB", "webhook"))
    return want


@pytest.mark.slow
async def test_sigkill_mid_stream_loses_nothing_and_leaks_nothing(
    topics: CommonSettings, receiver: WebhookReceiver, notifier: Notifier
) -> None:
    def batch(n: int) -> tuple[list, list]:  # type: ignore[type-arg]
        return [make_alert() for _ in range(n)], [
            make_alert(country="TJK", dissemination={"restricted_to": ["KAZ"]}) for _ in range(n)
        ]

    first_open, first_restricted = batch(30)
    receiver.fail("XPO-CC", 503)  # its jobs are retrying when the notifier dies
    notifier.start()
    await produce_alerts(topics, first_open + first_restricted)
    await receiver.wait_for(lambda: len(receiver.deliveries) >= 40, 60)
    notifier.kill()
    delivered_before = len(receiver.deliveries)
    second_open, second_restricted = batch(20)
    await produce_alerts(topics, second_open + second_restricted)  # while it is down
    receiver.heal("XPO-CC")
    notifier.start()
    want = expected_ids(first_open + second_open, first_restricted + second_restricted)
    await receiver.wait_for(
        lambda: all(ids <= set(receiver.ids(cp)) for cp, ids in want.items()), 90
    )
    assert delivered_before < sum(len(ids) for ids in want.values())  # it really died mid-way
    assert receiver.rejected == []
    assert receiver.ids("TJK-NCB") == {}  # the forbidden country: nothing, ever
    for cp in STANDARD_CONTACT_POINTS:
        unexpected = set(receiver.ids(cp)) - want.get(cp, set())
        assert unexpected == set(), cp  # any duplicate is the same webhook-id
