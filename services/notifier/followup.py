"""What happens after the first page: escalation, acknowledgement, cancellation.

Answers are taken by any replica (``answer``) and applied by the replica that owns the alert
(``acknowledge``), which reads them from ``notifications.acks``: keyed as the alert, they land
in a partition of the same number, and the group gives both to the same replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiokafka.errors import KafkaError

from schemas.alert import Alert
from schemas.notification import (
    AckKind,
    Acknowledgement,
    AuditAction,
    NoticeKind,
    Notification,
    NotificationState,
)
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.domain.directory import Directory
from services.notifier.domain.inbox import FINAL_STATES, AlertView, Inbox
from services.notifier.domain.routing import Plan, notifications_for
from services.notifier.errors import AnswerNotStoredError
from services.notifier.writer import Future, Writer

log = get_logger(__name__)

PAGES = (NoticeKind.ALERT, NoticeKind.UPDATE, NoticeKind.ESCALATION)
# An answer waits this long for its records to be stored; the journal goes on writing them.
ANSWER_STORE_S = 10.0
# Then this long until this replica's memory shows it (the owner applied it, perhaps on
# another replica): the reply shows the answer. Stored, it is applied in any case.
ANSWER_SEEN_S = 5.0


class _Timing(Protocol):
    @property
    def ack_delay(self) -> timedelta: ...


class Engine(Protocol):
    """What the follow-up (and ``escalations``) use of the notifier's engine
    (``services.notifier.engine``): declared, not imported, so no import runs both ways. The
    engine imports only ``escalations`` (its timers call it); the handlers and the API call
    the rest of the follow-up with the engine."""

    inbox: Inbox
    writer: Writer

    @property
    def config(self) -> _Timing: ...

    @property
    def directory(self) -> Callable[[], Directory]: ...

    async def record(
        self, jobs: list[Notification], action: AuditAction, **details: Any
    ) -> list[Future]: ...

    def schedule(
        self, job: Notification, delay_s: float = 0.0, alert: Alert | None = None
    ) -> None: ...

    def schedule_escalation(self, alert_id: str, delay_s: float) -> None: ...

    async def escalate(self, alert_id: str) -> None: ...

    async def recall(self, alert_id: str) -> bool: ...

    async def recall_entry(self, entry_id: str) -> None: ...

    def take_ack(self, ack: Acknowledgement) -> AlertView: ...

    async def seen(self, ack: Acknowledgement, timeout_s: float) -> bool: ...


async def answer(engine: Engine, ack: Acknowledgement) -> None:
    """Taken by any replica: stored on ``notifications.acks`` for the alert's owner, then
    awaited (bounded) in this replica's memory. ``AnswerNotStoredError`` if not stored."""
    view = engine.inbox.alerts.get(ack.alert_id)
    entry_id = view.entry_id if view is not None and view.entry_id else ack.alert_id
    try:
        async with asyncio.timeout(ANSWER_STORE_S):
            await asyncio.shield(engine.writer.ack(ack, entry_id))
    except (TimeoutError, KafkaError) as exc:
        log.warning("ack.not_stored", alert_id=ack.alert_id, error=type(exc).__name__)
        raise AnswerNotStoredError from exc
    if not await engine.seen(ack, ANSWER_SEEN_S):
        log.warning("ack.not_yet_applied", alert_id=ack.alert_id)


async def acknowledge(engine: Engine, ack: Acknowledgement) -> list[Future]:
    """At the alert's owner: close the recipient's jobs, stop (or, for cannot-act, hurry)
    escalation. Returns the writes to store before the answer's offset is committed."""
    await engine.recall(ack.alert_id)  # an answer may come after the alert left memory
    view = engine.take_ack(ack)
    writes: list[Future] = []
    for n in list(view.notifications.values()):
        if n.recipient != ack.contact_point or n.state is NotificationState.ACKNOWLEDGED:
            continue
        if n.notice is NoticeKind.HIT_REPORT:
            continue  # the issuer's copy of an outcome: nothing there to acknowledge
        if ack.kind is AckKind.CANNOT_ACT:
            continue
        if n.state in FINAL_STATES and n.state is not NotificationState.DELIVERED:
            continue
        done = n.model_copy(update={"state": NotificationState.ACKNOWLEDGED, "updated_at": ack.at})
        writes += await engine.record(
            [done],
            AuditAction.ACKNOWLEDGED,
            actor=ack.answered_by or ack.contact_point,
            kind=ack.kind.value,
        )
    metrics.ACKS.labels(ack.kind.value).inc()
    if ack.kind is AckKind.CANNOT_ACT and view.escalation_due is not None:
        view.escalation_due = ack.at  # the next in line is paged now
        await engine.escalate(ack.alert_id)
    return writes


async def cancel_entry(engine: Engine, entry_id: str) -> list[Future]:
    """The entry was cancelled: stop its pages, tell everyone who was paged."""
    writes: list[Future] = []
    await engine.recall_entry(entry_id)  # its alerts evicted from memory, read back
    for view in engine.inbox.by_entry(entry_id):
        if view.cancelled or view.alert is None:
            continue
        paged: list[str] = []
        stopped = []
        for n in view.notifications.values():
            if n.notice not in PAGES:
                continue
            if n.state in (NotificationState.DELIVERED, NotificationState.ACKNOWLEDGED):
                if n.recipient not in paged:
                    paged.append(n.recipient)
            elif n.state not in FINAL_STATES:
                stopped.append(n.model_copy(update={"state": NotificationState.CANCELLED}))
        writes += await engine.record(stopped, AuditAction.CANCELLED, reason="entry cancelled")
        directory = engine.directory()
        targets = [cp for cp in (directory.get(r) for r in paged) if cp is not None]
        plan = Plan(alert=view.alert, now=_now(), notice=NoticeKind.CANCELLATION)
        jobs = notifications_for(plan, targets)
        writes += await engine.record(jobs, AuditAction.CANCELLED, notice="cancellation")
        view.cancelled = True
        view.escalation_due = None
        for job in jobs:
            engine.schedule(job)
    return writes


def _now() -> datetime:
    return datetime.now(UTC)
