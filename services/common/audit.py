"""Audit records written outside the notifier's delivery path: by the matcher (suppressed
matches), the watchlist loader, ``relay dlq replay`` and the console's suppression desk.

One shape for all of them (``schemas.notification.AuditRecord`` on ``notifications.audit``,
keyed by ``alert_id``, or by ``actor`` when there is none), and one way to say who and from
where an operator acted: the account on the machine, the machine, and the Kafka principal.
"""

from __future__ import annotations

import getpass
import os
import socket
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.codec import encode, schema_header
from schemas.notification import AuditAction, AuditRecord
from services.common.kafka import make_producer
from services.common.settings import CommonSettings

AUDIT_HEADER = schema_header(AuditRecord)


def new_audit_id() -> str:
    """``uuid.uuid4().hex`` (same format: version 4, RFC 4122 variant) at a fifth of its cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def audit_key(record: AuditRecord) -> bytes:
    """One alert's records share a partition, in order; the rest go by who acted."""
    return (record.alert_id or record.actor).encode()


def audit_record(
    action: AuditAction, actor: str, alert_id: str | None = None, **details: Any
) -> AuditRecord:
    return AuditRecord(
        audit_id=new_audit_id(), alert_id=alert_id, action=action, actor=actor,
        at=datetime.now(UTC), details=details,
    )  # fmt: skip


def operator(settings: CommonSettings) -> tuple[str, dict[str, str]]:
    """Who runs a command: ``user@host`` as the actor; the Kafka principal and the host as
    details (from where)."""
    host = socket.gethostname()
    actor = f"{getpass.getuser()}@{host}"
    return actor, {"principal": settings.kafka_sasl_username or "-", "host": host}


async def send_audit(
    producer: AIOKafkaProducer, settings: CommonSettings, *records: AuditRecord
) -> None:
    """Write the records and return once the broker stored every one (acks=all)."""
    topic = settings.topic("notifications.audit")
    futures = [
        await producer.send(topic, encode(r), key=audit_key(r), headers=[AUDIT_HEADER])
        for r in records
    ]
    for future in futures:
        await future


async def store_audit(settings: CommonSettings, *records: AuditRecord) -> None:
    """``send_audit`` from a producer of its own: for commands, which have none open."""
    async with make_producer(settings) as producer:
        await send_audit(producer, settings, *records)
