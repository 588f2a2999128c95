"""The notifier's false-match desk: hit reports in, suppression records and their audit out.

A consumer group of its own (``<group>-suppressions``) reads ``hit_reports``, so each report
is turned into a suppression change once, whichever replica reads it. A supervisor's
``false_match`` suppresses the (traveller, entry) pair at once; a duty officer's is proposed,
and a supervisor of that country confirms it (or revokes it) in the console. Every change is
stored on the compacted ``suppressions`` topic and audited (who, when, what, from where)
before its caller is answered; the matcher follows the topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic import ValidationError

from schemas.codec import decode, encode, schema_header
from schemas.hit_report import HitReport
from schemas.notification import AuditAction
from schemas.suppression import (
    Suppression,
    SuppressionState,
    suppression_id_for,
    suppression_key,
)
from services.common.audit import audit_record, send_audit
from services.common.fate import until_stored
from services.common.logging import get_logger
from services.common.suppressions import SuppressionTable
from services.notifier.domain import suppressions as rules
from services.notifier.errors import UnreadableReport
from services.notifier.settings import NotifierSettings

log = get_logger(__name__)
ACTOR = "notifier"

_HEADER = schema_header(Suppression)
_ACTIONS = {
    SuppressionState.PENDING: AuditAction.SUPPRESSION_PROPOSED,
    SuppressionState.ACTIVE: AuditAction.SUPPRESSED,
    SuppressionState.REVOKED: AuditAction.SUPPRESSION_REVOKED,
}
FORGET_SWEEP_S = 3600.0  # how often ended suppressions are looked for


class SuppressionDesk:
    def __init__(
        self, settings: NotifierSettings, producer: AIOKafkaProducer, table: SuppressionTable
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.table = table
        self.topic = settings.topic("suppressions")
        self.keep_for = timedelta(days=settings.notifier_suppression_days)
        self.forget_after = timedelta(days=settings.notifier_suppression_forget_days)

    def get(self, suppression_id: str) -> Suppression | None:
        return self.table.by_id.get(suppression_id)

    async def on_report(self, report: HitReport) -> None:
        try:
            changed = rules.from_report(
                report, self._existing(report), datetime.now(UTC), self.keep_for
            )
        except rules.NotSuppressible as exc:
            log.warning("suppression.not_possible", alert_id=report.alert_id, reason=str(exc))
            return
        if changed is not None:
            where = {"via": "hit_report", "report_id": report.report_id}
            await self.store(changed, report.answered_by, where)

    def _existing(self, report: HitReport) -> Suppression | None:
        try:
            identity = rules.identity_of(report)
        except rules.NotSuppressible:
            return None
        return self.get(suppression_id_for(report.country, report.entry_id, identity))

    async def confirm(self, item: Suppression, actor: str, where: dict[str, str]) -> Suppression:
        changed = rules.confirmed(item, actor, datetime.now(UTC), self.keep_for)
        await self.store(changed, actor, where)
        return changed

    async def revoke(
        self, item: Suppression, actor: str, reason: str, where: dict[str, str]
    ) -> Suppression:
        changed = rules.revoked(item, actor, reason, datetime.now(UTC))
        await self.store(changed, actor, where)
        return changed

    async def forget_stale(self) -> int:
        """Delete (tombstone) the records of suppressions that ended long ago; the audit trail
        keeps that they existed, by id, without the identity."""
        now = datetime.now(UTC)
        stale = [
            item
            for item in list(self.table.by_id.values())
            if rules.stale(item, now, self.keep_for, self.forget_after)
        ]
        for item in stale:
            key = suppression_key(item.suppression_id)
            await self.producer.send_and_wait(self.topic, None, key=key)
            record = audit_record(
                AuditAction.SUPPRESSION_FORGOTTEN, ACTOR, item.alert_id,
                suppression_id=item.suppression_id, entry_id=item.entry_id,
                country=item.country, state=item.state.value,
            )  # fmt: skip
            await send_audit(self.producer, self.settings, record)
            self.table.apply(key, None)
        if stale:
            log.info("suppressions.forgotten", count=len(stale))
        return len(stale)

    async def forget_periodically(self) -> None:
        """A task of its own: once the topic is read, sweep now and then."""
        await self.table.caught_up.wait()
        while True:
            await until_stored(self.forget_stale, "suppressions")
            await asyncio.sleep(FORGET_SWEEP_S)

    async def store(self, item: Suppression, actor: str, where: dict[str, str]) -> None:
        """The record, then its audit; both stored (acks=all) before this returns."""
        sent = await self.producer.send(
            self.topic, encode(item), key=suppression_key(item.suppression_id), headers=[_HEADER]
        )
        record = audit_record(
            _ACTIONS[item.state], actor, item.alert_id,
            suppression_id=item.suppression_id, entry_id=item.entry_id, country=item.country,
            state=item.state.value,
            expires_at=item.expires_at.isoformat() if item.expires_at else None, **where,
        )  # fmt: skip
        await sent
        await send_audit(self.producer, self.settings, record)
        self.table.apply(suppression_key(item.suppression_id), encode(item))  # seen here at once
        log.info("suppression.changed", suppression_id=item.suppression_id, state=item.state.value)


class HitReportHandler:
    """``PipelinedLoop`` handler of ``hit_reports``: each report's suppression change is
    stored before its offset is committed."""

    def __init__(self, desk: SuppressionDesk) -> None:
        self.desk = desk

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        if record.value is None:
            return ()
        try:
            report = decode(HitReport, record.value)
        except (ValidationError, ValueError) as exc:
            raise UnreadableReport(f"not a hit report: {type(exc).__name__}") from exc
        # re-run whole after a broker failure: the change is computed from the table again
        await until_stored(lambda: self.desk.on_report(report), "suppressions")
        return ()
