"""Every Kafka write of the notifier: job state, audit, acknowledgements, dead letters.

All through one acks=all idempotent producer. Each method returns the produce future so that
callers decide what to wait for (the alert consumer commits only after its writes are stored).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.codec import encode, schema_header
from schemas.notification import (
    Acknowledgement,
    AuditAction,
    AuditRecord,
    Notification,
)
from services.common import fate
from services.common.settings import CommonSettings

SERVICE = "notifier"
Future = asyncio.Future[Any]


class Writer:
    def __init__(self, producer: AIOKafkaProducer, settings: CommonSettings) -> None:
        self.producer = producer
        self.deliveries = settings.topic("notifications.deliveries")
        self.audits = settings.topic("notifications.audit")
        self.acks = settings.topic("notifications.acks")
        self.dlq = settings.topic("alerts.dlq")

    async def state(self, n: Notification) -> Future:
        future: Future = await self.producer.send(
            self.deliveries,
            encode(n),
            key=n.notification_id.encode(),
            headers=[schema_header(Notification)],
        )
        return future

    async def audit(self, n: Notification, action: AuditAction, **details: Any) -> Future:
        record = AuditRecord(
            audit_id=uuid.uuid4().hex,
            alert_id=n.alert_id,
            notification_id=n.notification_id,
            action=action,
            actor=details.pop("actor", SERVICE),
            at=datetime.now(UTC),
            details={"recipient": n.recipient, "channel": n.channel.value, **details},
        )
        future: Future = await self.producer.send(
            self.audits,
            encode(record),
            key=n.alert_id.encode(),
            headers=[schema_header(AuditRecord)],
        )
        return future

    async def ack(self, ack: Acknowledgement) -> Future:
        future: Future = await self.producer.send(
            self.acks,
            encode(ack),
            key=ack.alert_id.encode(),
            headers=[schema_header(Acknowledgement)],
        )
        return future

    async def dead_letter(self, n: Notification, reason: str, attempts: int) -> Future:
        """The alert (or the job, if the alert is gone) on alerts.dlq, why in the headers."""
        value = encode(n.alert) if n.alert is not None else encode(n)
        headers = [
            (fate.H_REASON, reason[:1000].encode()),
            (fate.H_FIELD, n.channel.value.encode()),
            (fate.H_ERROR, b"DeliveryFailed"),
            (fate.H_SERVICE, SERVICE.encode()),
            (fate.H_AT, datetime.now(UTC).isoformat().encode()),
            (fate.H_ATTEMPTS, str(attempts).encode()),
            ("relay-notification-id", n.notification_id.encode()),
            ("relay-recipient", n.recipient.encode()),
        ]
        future: Future = await self.producer.send(
            self.dlq, value, key=n.alert_id.encode(), headers=headers
        )
        return future
