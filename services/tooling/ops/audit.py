"""``relay audit``: the audit trail queried by alert, entry, officer, country, action and time.

Reads ``notifications.audit`` from the first record at or after ``since`` (the broker's time
index) to its end now, keeps the records the query selects, and orders them by time (records
of one alert share a partition, so equal times keep the order they were written in). Asked
about one alert, it also shows the alert's creation, read from ``alerts``: the alert record
itself is the evidence of it (the matcher writes no second copy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.alert import Alert, alert_key
from schemas.codec import decode
from schemas.notification import AuditRecord
from services.common import topic_read
from services.common.batches import murmur2
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.common.topic_read import Ranges, Record

CREATED = "created"  # the alert's creation, from ``alerts`` (no AuditAction: not an audit record)
# How far before an alert's first audit record its creation is looked for on ``alerts``.
CREATION_LOOKBACK = timedelta(days=1)
_CONTACT_POINT_COUNTRY = re.compile(r"^([A-Z]{3})-")


@dataclass(frozen=True)
class AuditQuery:
    alert_id: str | None = None
    entry_id: str | None = None
    officer: str | None = None  # an actor ("KAZ-NCB/kaz.duty1") or its account ("kaz.duty1")
    country: str | None = None
    actions: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Row:
    """One line of the answer: an audit record, or the alert's creation."""

    at: datetime
    action: str
    actor: str
    alert_id: str | None
    audit_id: str | None = None
    notification_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    order: tuple[int, int] = (0, 0)  # (partition, offset): ties at one time keep their order

    @classmethod
    def of(cls, record: AuditRecord, order: tuple[int, int] = (0, 0)) -> Row:
        return cls(
            record.at, record.action.value, record.actor, record.alert_id, record.audit_id,
            record.notification_id, record.details, order,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(), "action": self.action, "actor": self.actor,
            "alert_id": self.alert_id, "audit_id": self.audit_id,
            "notification_id": self.notification_id, "details": self.details,
        }  # fmt: skip


def country_of(row: Row) -> str | None:
    """The country a record concerns: named in it, or the country of the contact point that
    acted or received (contact point ids start with their country: ``KAZ-NCB``)."""
    named = row.details.get("country")
    if isinstance(named, str):
        return named
    for who in (row.actor, row.details.get("recipient")):
        found = _CONTACT_POINT_COUNTRY.match(who) if isinstance(who, str) else None
        if found:
            return found.group(1)
    return None


def _officer(row: Row, officer: str) -> bool:
    return row.actor == officer or row.actor.endswith(f"/{officer}")


def selects(query: AuditQuery, row: Row) -> bool:
    checks = (
        query.alert_id is None or row.alert_id == query.alert_id,
        query.entry_id is None or row.details.get("entry_id") == query.entry_id,
        query.officer is None or _officer(row, query.officer),
        query.country is None or country_of(row) == query.country,
        not query.actions or row.action in query.actions,
        query.since is None or row.at >= query.since,
        query.until is None or row.at <= query.until,
    )
    return all(checks)


def ordered(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.at, r.order))


async def query_audit(settings: CommonSettings, query: AuditQuery) -> list[Row]:
    """The selected records, oldest first; with ``alert_id``, the alert's creation first."""
    topic = settings.topic("notifications.audit")
    rows: list[Row] = []
    async with make_consumer(settings, group_id=None) as consumer:
        partitions = await partitions_of(settings, topic)
        if query.alert_id is not None:  # one alert's records share its key's partition
            partitions = [_partition_of(partitions, query.alert_id.encode())]
        ranges = await _from_time(consumer, partitions, query.since)
        async for batch in topic_read.read(consumer, ranges):
            for record in batch:
                row = _row(record)
                if row is not None and selects(query, row):
                    rows.append(row)
    if query.alert_id is not None and rows and not query.actions:
        created = await _creation(settings, query.alert_id, rows)
        if created is not None and selects(query, created):
            rows.append(created)
    return ordered(rows)


def _partition_of(partitions: list[TopicPartition], key: bytes) -> TopicPartition:
    """Where the producers' partitioner (murmur2, as the Java client) put this key."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


def _row(record: Record) -> Row | None:
    if record.value is None:
        return None
    try:
        return Row.of(decode(AuditRecord, record.value), (record.partition, record.offset))
    except (ValidationError, ValueError):
        return None  # not an audit record: nothing of it can be shown as one


async def _from_time(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], since: datetime | None
) -> Ranges:
    ranges = await topic_read.to_end(consumer, partitions)
    if since is None:
        return ranges
    found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in ranges})
    return {
        tp: (found[tp].offset if found.get(tp) else stop, stop)
        for tp, (_start, stop) in ranges.items()
    }


async def _creation(settings: CommonSettings, alert_id: str, rows: list[Row]) -> Row | None:
    """The alert as ``alerts`` holds it, read from its entry's partition only."""
    entry_id = next((r.details["entry_id"] for r in rows if "entry_id" in r.details), None)
    if not isinstance(entry_id, str):
        return None
    topic = settings.topic("alerts")
    partitions = await partitions_of(settings, topic)
    tp = _partition_of(partitions, alert_key(entry_id))
    since = min(r.at for r in rows) - CREATION_LOOKBACK
    async with make_consumer(settings, group_id=None) as consumer:
        ranges = await _from_time(consumer, [tp], since)
        async for batch in topic_read.read(consumer, ranges):
            for record in batch:
                if record.value is not None and alert_id.encode() in record.value:
                    alert = decode(Alert, record.value)
                    if alert.alert_id == alert_id:
                        return _created(alert, record.offset)
    return None


def _created(alert: Alert, offset: int) -> Row:
    details = {
        "entry_id": alert.entry_id, "event_id": alert.event_id, "country": alert.country,
        "list": alert.list.value, "band": alert.band.value, "kind": alert.kind.value,
    }  # fmt: skip
    return Row(alert.created_at, CREATED, "matcher", alert.alert_id, order=(-1, offset),
               details=details)  # fmt: skip
