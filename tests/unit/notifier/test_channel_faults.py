"""A channel that raises, or a secret that cannot sign: the job is retried and in the end
dead-lettered, never dropped; such a secret is refused when the directory is read."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.notification import AuditAction, Channel, Notification, NotificationState
from services.notifier.channels.base import SendJob
from services.notifier.channels.registry import SPECS
from services.notifier.domain.backoff import Backoff, Outcome
from services.notifier.domain.directory import Directory
from services.notifier.domain.routing import Plan, route
from services.notifier.engine import Engine, EngineConfig
from services.notifier.writer import Future, Record
from tests.support.notifier_data import standard_directory
from tests.support.notifier_fakes import Idle, Lane
from tests.unit.notifier.test_memory import DIRECTORY, NOW, Topic, _done, routine, take


class DeadLetters(Topic):
    """The archive stand-in, also taking dead letters."""

    def __init__(self) -> None:
        super().__init__()
        self.dead: list[str] = []

    def dead_letter(self, n: Notification, alert: Any, reason: str, attempts: int) -> Record:
        self.dead.append(n.notification_id)
        return Record("alerts.dlq", n.alert_id.encode(), b"", [])

    def write(self, record: Record) -> Future:
        if record.topic == "alerts.dlq":
            return _done()
        return super().write(record)


class Exploding(Lane):
    async def send(self, job: SendJob) -> Outcome:
        raise ValueError("a bug in a channel")


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + "A" * 17,  # passes the old pattern, does not decode
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # too short to sign with
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
        "whsec_" + "A" * 31 + "%",
    ],
)
def test_a_webhook_secret_that_cannot_sign_is_refused_with_the_directory(secret: str) -> None:
    raw = standard_directory(lambda n: f"http://h.example/{n}")
    raw["contact_points"][0]["webhook"]["secrets"] = [secret]
    with pytest.raises(ValidationError, match="secret"):
        Directory.parse(raw, SPECS)


def test_a_webhook_secret_of_24_to_64_bytes_is_taken() -> None:
    raw = standard_directory(lambda n: f"http://h.example/{n}")
    for size in (24, 64):
        raw["contact_points"][0]["webhook"]["secrets"] = [
            "whsec_" + base64.b64encode(b"k" * size).decode()
        ]
        assert Directory.parse(raw, SPECS)


async def test_a_channel_that_raises_is_retried_then_dead_lettered() -> None:
    topic = DeadLetters()
    config = EngineConfig(backoff=Backoff(0.01, 0.02, 3))
    channels = dict.fromkeys(Channel, Exploding())
    e = Engine(config, topic, lambda: DIRECTORY, channels, Idle())  # type: ignore[arg-type]
    alert = routine()
    await take(e, alert)
    job = route(Plan(alert, NOW), DIRECTORY)[0]
    for _ in range(3):
        await e.attempt(alert.alert_id, job.notification_id)
    state = e.inbox.notification(job.notification_id, alert.alert_id)
    assert state is not None
    assert state.state is NotificationState.DEAD_LETTERED
    assert all(a.error == "channel error: ValueError" for a in state.attempts)
    assert (job.notification_id, AuditAction.DEAD_LETTERED) in topic.audits
    assert topic.dead == [job.notification_id]
