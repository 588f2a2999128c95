"""A read whose audit record cannot be stored shows nothing: 503, try again."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError
from fastapi import HTTPException
from pydantic import ValidationError

from schemas.notification import AuditAction, AuditRecord
from services.notifier import access_audit
from services.notifier.access_audit import Reader
from services.notifier.console.routes import audit_read
from services.notifier.writer import Writer

READER = Reader("KAZ-NCB", "console", "192.0.2.7")


class Refusing:
    """Stands where the writer does: every record's future ends as ``outcome`` says."""

    def __init__(self, outcome: BaseException | None) -> None:
        self.outcome = outcome
        self.records: list[AuditRecord] = []
        self.futures: list[asyncio.Future[Any]] = []

    def access(self, record: AuditRecord) -> asyncio.Future[Any]:
        self.records.append(record)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        if self.outcome is not None:
            future.set_exception(self.outcome)
        return future  # never resolved when there is no outcome: the broker is silent


async def test_a_read_the_broker_refuses_to_audit_is_answered_503() -> None:
    writer = Refusing(KafkaTimeoutError())
    with pytest.raises(HTTPException) as refused:
        await audit_read(cast(Writer, writer), READER.record(AuditAction.OPENED, "a-" + "0" * 32))
    assert refused.value.status_code == 503
    assert refused.value.headers is not None
    assert "Retry-After" in refused.value.headers
    assert [r.action for r in writer.records] == [AuditAction.OPENED]


async def test_a_read_the_broker_never_answers_for_is_answered_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(access_audit, "STORE_S", 0.05)
    writer = Refusing(None)
    with pytest.raises(HTTPException) as refused:
        await audit_read(cast(Writer, writer), access_audit.listed(READER, ["a-1"]))
    assert refused.value.status_code == 503
    # the batch's future is shared with other records: giving up must not cancel it
    assert not writer.futures[0].cancelled()


def test_an_alert_read_names_its_alert_and_a_session_needs_none() -> None:
    with pytest.raises(ValidationError, match="alert_id"):
        READER.record(AuditAction.OPENED)
    signed_in = READER.record(AuditAction.SIGNED_IN)
    assert signed_in.alert_id is None
    assert signed_in.details == {"via": "console", "client": "192.0.2.7"}
