"""Outcomes and hit reports: an answer becomes a report on ``hit_reports``; the report is
delivered to the issuer by the delivery engine, as alerts are.

Giving an outcome stores three things before it answers: the acknowledgement (it closes the
answering contact point's jobs and stops escalation), the hit report, and its ``answered``
audit record; if any is not stored the caller is told to send it again (the report id is
derived from the alert and the outcome, so a resend is the same report). The report is then
read back from its topic (``ReportHandler``) and routed into delivery jobs whose ids come from
the report: a report read twice is delivered once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from schemas.codec import SchemaVersionError, check_schema_header, decode
from schemas.hit_report import HitReport
from schemas.notification import AckKind, Acknowledgement, AuditAction
from services.common.errors import PermanentError
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.access_audit import Reader
from services.notifier.domain.inbox import Inbox
from services.notifier.domain.outcomes import (
    Answerer,
    GivenOutcome,
    OutcomeRefused,
    build_report,
    report_jobs,
    report_targets,
)
from services.notifier.errors import AnswerNotStoredError
from services.notifier.followup import ANSWER_STORE_S, answer
from services.notifier.followup import Engine as FollowupEngine
from services.notifier.writer import Future

log = get_logger(__name__)


class OutcomeBody(BaseModel):
    """An outcome as the console and the API take it: ``{"outcome": "arrested", "comment":
    "..."}``. The code is checked against the alert's kind when it is given."""

    model_config = ConfigDict(extra="forbid")
    outcome: Annotated[StrictStr, Field(min_length=1, max_length=50)]
    comment: Annotated[StrictStr, Field(max_length=4000)] | None = None

    def given(self) -> GivenOutcome:
        comment = self.comment.strip() if self.comment else None
        return GivenOutcome(self.outcome, comment or None, datetime.now(UTC))


class Watch(Protocol):
    def answered(self, alert_id: str) -> None: ...


class Engine(FollowupEngine, Protocol):
    """What outcomes use of the delivery engine (``services.notifier.engine.Engine``)."""

    @property
    def outcomes(self) -> Watch: ...  # the 12-hour rule's timers (``reminders.OutcomeWatch``)

    async def recall(self, alert_id: str) -> bool: ...


async def give_outcome(
    engine: Engine, alert_id: str, given: GivenOutcome, who: Answerer
) -> HitReport:
    """Take an outcome for an alert the answerer's contact point received. ``OutcomeRefused``
    (404, 403, 422) when it cannot be taken; ``AnswerNotStoredError`` when not stored."""
    await engine.recall(alert_id)  # an answer may come after the alert left memory
    view = engine.inbox.alerts.get(alert_id)
    if view is None or view.alert is None:
        raise OutcomeRefused(404, "alert_id", "no such alert")
    if who.contact_point not in view.recipients:
        raise OutcomeRefused(403, "contact_point", "this contact point did not receive the alert")
    report = build_report(view.alert, given, who)
    reader = Reader(who.actor, who.via, who.client)
    record = reader.record(
        AuditAction.ANSWERED, alert_id, outcome=report.outcome.value,
        report_id=report.report_id, role=who.role, contact_point=who.contact_point,
    )  # fmt: skip
    writes = [engine.writer.access(record), engine.writer.hit_report(report)]
    ack = Acknowledgement(
        alert_id=alert_id, kind=AckKind.RESOLVED, contact_point=who.contact_point,
        at=given.at, comment=given.comment, outcome=report.outcome, answered_by=who.actor,
    )  # fmt: skip
    await answer(engine, ack)
    try:
        async with asyncio.timeout(ANSWER_STORE_S):
            for write in writes:  # shared batch futures: a timeout must not cancel them
                await asyncio.shield(write)
    except (TimeoutError, KafkaError) as exc:
        log.warning("outcome.not_stored", alert_id=alert_id, error=type(exc).__name__)
        raise AnswerNotStoredError from exc
    engine.outcomes.answered(alert_id)
    metrics.OUTCOMES.labels(report.outcome.value).inc()
    log.info("outcome.given", alert_id=alert_id, outcome=report.outcome.value, role=who.role)
    return report


async def route_report(engine: Engine, report: HitReport) -> list[Future]:
    """Delivery jobs for a report: to the issuer, and to everyone else told of the hit outside
    the reporting country, within the entry's restriction (checked again at each send)."""
    await engine.recall(report.alert_id)
    view = engine.inbox.alerts.get(report.alert_id)
    if view is None or view.alert is None:
        raise PermanentError("the alert of this hit report is not known", field="alert_id")
    engine.outcomes.answered(report.alert_id)  # perhaps given at another replica
    targets = report_targets(report, engine.directory(), view.recipients)
    jobs = report_jobs(report, view.alert, targets, datetime.now(UTC))
    fresh = [j for j in jobs if engine.inbox.notification(j.notification_id, j.alert_id) is None]
    writes = await engine.record(
        fresh, AuditAction.ROUTED, notice="hit_report", report_id=report.report_id,
        outcome=report.outcome.value,
    )  # fmt: skip
    for job in fresh:
        engine.schedule(job)
    metrics.HIT_REPORTS_ROUTED.inc(len(fresh))
    return writes


class ReportHandler:
    """``hit_reports`` -> delivery jobs; the writes to wait for before committing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        if record.value is None:
            raise PermanentError("empty hit report record")
        try:
            check_schema_header(record.headers, HitReport)
            report = decode(HitReport, record.value)
        except (ValidationError, SchemaVersionError) as exc:
            raise PermanentError(f"invalid hit report: {str(exc)[:500]}") from exc
        return await route_report(self.engine, report)


def reports_for_issuer(inbox: Inbox, country: str) -> list[HitReport]:
    """Every hit report in memory about the entries ``country`` issued, newest first."""
    found = [
        n.hit_report
        for view in inbox.alerts.values()
        if view.alert is not None and view.alert.issuer == country
        for n in view.notifications.values()
        if n.hit_report is not None
    ]
    unique = {r.report_id: r for r in found}
    return sorted(unique.values(), key=lambda r: r.at, reverse=True)
