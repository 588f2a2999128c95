"""The Leads view shows nothing it could not audit, nor a list it has not finished reading:
503 and no lead in the answer (the real gate and routes; the writer is one the broker refuses)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka.errors import KafkaTimeoutError
from fastapi import APIRouter, FastAPI

from schemas.codec import encode
from schemas.lead import lead_key
from schemas.notification import AuditRecord
from services.common.settings import CommonSettings
from services.notifier.accounts_file import AccountsFile
from services.notifier.channels.registry import SPECS
from services.notifier.console.gate import ConsoleAccess, Gate
from services.notifier.console.leads import leads_router
from services.notifier.console.principal import Role
from services.notifier.console.session import COOKIE, SessionKeys
from services.notifier.domain.directory import Directory
from services.notifier.engine import Engine, EngineConfig
from services.notifier.leads_model import LeadsModel
from services.notifier.revocations import Revocations
from services.notifier.scheduler import Scheduler
from tests.support.accounts import account_name, accounts_for
from tests.support.console_data import console_directory
from tests.support.lead_data import lead_record, serial_escort


class Refusing:
    """Where the writer stands: the broker refuses every audit record."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def access(self, record: AuditRecord) -> asyncio.Future[Any]:
        self.records.append(record)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(KafkaTimeoutError())
        return future


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, LeadsModel, Refusing]]:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(accounts_for(console_directory())), "utf-8")
    accounts = AccountsFile(path)
    writer = Refusing()
    directory = Directory.parse(console_directory(), SPECS)
    engine = Engine(EngineConfig(), writer, lambda: directory, {}, Scheduler())  # type: ignore[arg-type]
    keys = SessionKeys(b"k" * 32)
    gate = Gate(engine, ConsoleAccess(keys, Revocations(CommonSettings(), None), accounts))
    model = LeadsModel(CommonSettings())
    router = APIRouter(prefix="/console")
    router.include_router(leads_router(gate, model, writer))  # type: ignore[arg-type]
    app = FastAPI()
    app.include_router(router)
    account = accounts().get(account_name("KAZ-NCB", Role.ANALYST))
    assert account is not None
    cookie, _ = gate.session_for(account, int(time.time()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        client.cookies.set(COOKIE, cookie)
        yield client, model, writer


async def test_a_lead_whose_reading_cannot_be_audited_is_not_shown(
    console: tuple[httpx.AsyncClient, LeadsModel, Refusing],
) -> None:
    client, model, writer = console
    lead = serial_escort("KAZ")
    # Before the topic is read to its end: no partial list.
    early = await client.get("/console/api/leads")
    assert early.status_code == 503
    assert writer.records == []

    model.apply([lead_record(0, lead_key(lead.lead_id), encode(lead))])
    model.caught_up.set()
    for url in (
        "/console/api/leads",
        f"/console/api/leads/{lead.lead_id}",
        f"/console/api/leads/{lead.lead_id}/export?format=csv",
    ):
        answer = await client.get(url)
        assert answer.status_code == 503, url
        assert answer.headers["retry-after"]
        assert lead.lead_id not in answer.text
        assert "SYNTHOVA" not in answer.text
    assert [r.action for r in writer.records] == ["leads_listed", "lead_opened", "leads_exported"]
