"""Every Kafka write of the notifier: job state, audit, acknowledgements, dead letters.

All through one acks=all idempotent producer, a batch per topic-partition (``batches``). The
writing methods return the future of the record's batch, resolved once the broker stored it,
so that callers decide what to wait for; ``journal`` orders a job's records and its state.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from aiokafka import AIOKafkaProducer

from schemas.alert import ALERTS_TOPIC, Alert, alert_key
from schemas.codec import encode, schema_header
from schemas.headers import (
    H_AT,
    H_ATTEMPTS,
    H_ERROR,
    H_FIELD,
    H_NOTIFICATION_ID,
    H_REASON,
    H_RECIPIENT,
    H_SERVICE,
)
from schemas.hit_report import HIT_REPORTS_TOPIC, HitReport, report_key
from schemas.notification import (
    Acknowledgement,
    AuditAction,
    AuditRecord,
    Cancellation,
    NoticeKind,
    Notification,
)
from services.common.audit import audit_key, new_audit_id
from services.common.batches import Batches, Headers, KeyPartitioner
from services.common.settings import CommonSettings
from services.notifier.metrics import STANDARD

SERVICE = "notifier"
Future = asyncio.Future[Any]
_SERIALIZER = Notification.__pydantic_serializer__
_NO_ALERT = {"alert"}
_STATE_HEADER = schema_header(Notification)
_AUDIT_HEADER = schema_header(AuditRecord)
_ALERT_NOTICE = NoticeKind.ALERT


class Record(NamedTuple):
    """One record built and not yet written: kept as is, it can be written again."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


def audit_json(n: Notification, action: AuditAction, **details: Any) -> bytes:
    """``encode(AuditRecord(...))``, byte for byte, without building and validating the model
    (a few records per delivery): every value comes from a validated job or from this module.
    Keys in the model's field order; ``OPT_UTC_Z`` writes UTC as pydantic does ("...Z").
    A job that is not an alert's page names its notice (a hit report, a reminder...)."""
    if n.notice is not _ALERT_NOTICE:
        details = {"notice": n.notice.value, **details}
    record = {
        "audit_id": new_audit_id(),
        "alert_id": n.alert_id,
        "notification_id": n.notification_id,
        "action": action.value,
        "actor": details.pop("actor", SERVICE),
        "at": datetime.now(UTC),
        # country and entry: what ``relay audit --country/--entry`` select by
        "details": {
            "recipient": n.recipient,
            "channel": n.channel.value,
            "country": n.country,
            **({"entry_id": n.entry_id} if n.entry_id else {}),
            **details,
        },
    }
    return orjson.dumps(record, option=orjson.OPT_UTC_Z)


def owner_key(n: Notification) -> bytes:
    """The key whose partition holds the job on the deliveries topic: its alert's on ``alerts``
    (the entry's), so the replica owning an alerts partition rebuilds the same partition."""
    return alert_key(n.entry_id or n.alert_id)


class Writer:
    """Job states and audits (and the rest) through ``Batches``: call ``start`` first, and
    ``flush`` before the producer stops."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        settings: CommonSettings,
        partitioner: KeyPartitioner | None = None,
    ) -> None:
        self.deliveries = settings.topic("notifications.deliveries")
        self.audits = settings.topic("notifications.audit")
        self.acks = settings.topic("notifications.acks")
        self.cancellations = settings.topic("notifications.cancellations")
        self.dlq = settings.topic("alerts.dlq")
        self.hit_reports = settings.topic(HIT_REPORTS_TOPIC)
        # Undeliverable alerts are counted as dead letters of the topic they came from.
        self._dead_letters = STANDARD.dead_letters.labels(SERVICE, settings.topic(ALERTS_TOPIC))
        self.batches = Batches(producer, partitioner or KeyPartitioner())

    async def start(self) -> None:
        await self.batches.start(
            [
                self.deliveries,
                self.audits,
                self.acks,
                self.cancellations,
                self.dlq,
                self.hit_reports,
            ]
        )

    async def flush(self) -> None:
        await self.batches.flush()

    def write(self, record: Record) -> Future:
        return self.batches.add(record.topic, record.key, record.value, record.headers)

    def state(self, n: Notification, *, carry_alert: bool = False) -> Future:
        """The job's latest state; the alert only in the records of its carrier job."""
        exclude = None if carry_alert else _NO_ALERT
        value = _SERIALIZER.to_json(n, exclude_none=True, exclude=exclude)
        key, headers = n.notification_id.encode(), [_STATE_HEADER]
        return self.batches.add(self.deliveries, key, value, headers, owner_key(n))

    def tombstone(self, n: Notification) -> Future:
        """Retention: compaction removes the job (and any copy of the alert) for good."""
        key = n.notification_id.encode()
        return self.batches.add(self.deliveries, key, None, [], owner_key(n))

    def audit(self, n: Notification, action: AuditAction, **details: Any) -> Record:
        value = audit_json(n, action, **details)
        return Record(self.audits, n.alert_id.encode(), value, [_AUDIT_HEADER])

    def access(self, record: AuditRecord) -> Future:
        """A read of personal data or a console session (``access_audit``), keyed by its alert
        or, when it concerns none, by who read."""
        return self.batches.add(self.audits, audit_key(record), encode(record), [_AUDIT_HEADER])

    def ack(self, ack: Acknowledgement, entry_id: str) -> Future:
        """On its way to the replica that owns the alert (keyed as the alert)."""
        headers = [schema_header(Acknowledgement)]
        return self.batches.add(self.acks, alert_key(entry_id), encode(ack), headers)

    def cancellation(self, cancelled: Cancellation) -> Future:
        headers = [schema_header(Cancellation)]
        key = alert_key(cancelled.entry_id)
        return self.batches.add(self.cancellations, key, encode(cancelled), headers)

    def hit_report(self, report: HitReport) -> Future:
        key, headers = report_key(report.entry_id), [schema_header(HitReport)]
        return self.batches.add(self.hit_reports, key, encode(report), headers)

    def dead_letter(
        self, n: Notification, alert: Alert | None, reason: str, attempts: int
    ) -> Record:
        """The alert (or the job, if the alert is gone) on alerts.dlq, why in the headers.
        Counted here, once per job: the journal writes the record until it is stored."""
        self._dead_letters.inc()
        value = encode(alert) if alert is not None else encode(n)
        headers = [
            (H_REASON, reason[:1000].encode()),
            (H_FIELD, n.channel.value.encode()),
            (H_ERROR, b"DeliveryFailed"),
            (H_SERVICE, SERVICE.encode()),
            (H_AT, datetime.now(UTC).isoformat().encode()),
            (H_ATTEMPTS, str(attempts).encode()),
            (H_NOTIFICATION_ID, n.notification_id.encode()),
            (H_RECIPIENT, n.recipient.encode()),
        ]
        return Record(self.dlq, n.alert_id.encode(), value, headers)
