"""Reads of personal data and console sessions, written to the audit topic.

An answer that shows personal data (an alert's detail, an inbox) leaves only once its audit
record is stored: if the broker cannot store it, the caller gets 503 and sees nothing, so no
read goes unaudited. A refused sign-in is written without waiting: the caller learns nothing
either way, and a broker outage must not turn refusals into errors.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from fastapi import Request

from schemas.notification import AuditAction, AuditRecord
from services.common.audit import audit_record, new_audit_id
from services.common.logging import get_logger
from services.notifier.errors import AuditNotStoredError
from services.notifier.writer import Writer

log = get_logger(__name__)

# How long a read waits for its audit record to be stored before it answers 503.
STORE_S = 5.0
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Reader:
    """Who reads: the contact point (or ``anonymous``), through what, from which address."""

    actor: str
    via: str  # "console" or "api"
    client: str

    @classmethod
    def of(cls, request: Request, actor: str, via: str) -> Reader:
        return cls(actor, via, request.client.host if request.client else "unknown")

    def record(
        self, action: AuditAction, alert_id: str | None = None, **details: object
    ) -> AuditRecord:
        return AuditRecord(
            audit_id=new_audit_id(), alert_id=alert_id, action=action, actor=self.actor,
            at=datetime.now(UTC), details={"via": self.via, "client": self.client, **details},
        )  # fmt: skip


def listed(reader: Reader, alert_ids: Iterable[str]) -> AuditRecord:
    return reader.record(AuditAction.LISTED, alerts=list(alert_ids))


async def stored(writer: Writer, record: AuditRecord) -> None:
    """Write the record and wait until the broker has it (``AuditNotStoredError`` if not)."""
    try:
        # shielded: the batch's future is shared by every record in it, so a timeout here
        # must not cancel it
        await asyncio.wait_for(asyncio.shield(writer.access(record)), STORE_S)
    except (TimeoutError, KafkaError) as exc:
        log.warning("audit.not_stored", action=record.action.value, error=type(exc).__name__)
        raise AuditNotStoredError from exc


def written(writer: Writer, record: AuditRecord) -> None:
    """Write the record without waiting (the batch writes it with the rest)."""
    writer.access(record).add_done_callback(_report)


def _report(future: asyncio.Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("audit.not_stored", error=type(future.exception()).__name__)


def reloaded(writer: Writer, what: str, version: int, taken: bool) -> None:
    """A configuration file re-read (``watched_file``): taken, or refused as invalid."""
    record = audit_record(
        AuditAction.SETTINGS_RELOADED, "notifier",
        file=what, version=version, taken=taken, host=socket.gethostname(),
    )  # fmt: skip
    written(writer, record)
