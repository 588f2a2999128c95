"""An answer that cannot be stored in time (the broker is away) gets a clear 503 with
Retry-After, never a hang or a 500: sending it again is harmless."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from schemas.notification import Acknowledgement, AuditAction, Channel, Notification
from services.common.health import Readiness
from services.common.settings import CommonSettings
from services.notifier import followup
from services.notifier.accounts_file import AccountsFile
from services.notifier.api import Access, create_api
from services.notifier.channels.registry import SPECS
from services.notifier.console.gate import ConsoleAccess
from services.notifier.console.session import SessionKeys
from services.notifier.domain.directory import Directory
from services.notifier.engine import Engine, EngineConfig
from services.notifier.revocations import Revocations
from services.notifier.writer import Future, Record
from tests.support.notifier_data import make_alert, standard_directory
from tests.support.notifier_fakes import Idle, Lane

DIRECTORY = Directory.parse(standard_directory(lambda n: f"http://h.example/{n}"), SPECS)


class BrokerAway:
    """A writer whose broker never answers: every write stays on its way."""

    def __init__(self) -> None:
        self.pending: list[Future] = []

    def _never(self) -> Future:
        future: Future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future

    def state(self, n: Notification, *, carry_alert: bool = False) -> Future:
        return self._never()

    def tombstone(self, n: Notification) -> Future:
        return self._never()

    def audit(self, n: Notification, action: AuditAction, **details: Any) -> Record:
        return Record("audit", n.alert_id.encode(), action.value.encode(), [])

    def write(self, record: Record) -> Future:
        return self._never()

    def ack(self, ack: Acknowledgement, entry_id: str) -> Future:
        return self._never()


async def test_ack_answers_503_when_the_broker_is_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(followup, "ANSWER_STORE_S", 0.05)
    channels: dict[Channel, Any] = {c: Lane() for c in Channel}
    writer = BrokerAway()
    engine = Engine(EngineConfig(), writer, lambda: DIRECTORY, channels, Idle())  # type: ignore[arg-type]
    alert = make_alert()
    await engine.on_alert(alert)  # routed in memory; its writes never stored
    # A key-holder's answer revokes nothing: no broker is needed for revocations here.
    revocations = Revocations(CommonSettings(), None)
    console = ConsoleAccess(SessionKeys(b"s" * 32), revocations, AccountsFile(None))
    access = Access(CommonSettings(), revocations, console)
    transport = httpx.ASGITransport(app=create_api(engine, Readiness(), access))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        answer = await asyncio.wait_for(
            client.post(
                f"/v1/alerts/{alert.alert_id}/ack",
                headers={"Authorization": "Bearer key-KAZ-NCB"},
            ),
            5,
        )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "send it again" in answer.json()["detail"]
    # Not stored, not applied: the owner applies an answer only once it reads it back.
    assert not engine.inbox.alerts[alert.alert_id].acknowledged
