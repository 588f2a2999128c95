"""Escalation: an urgent alert nobody took by its deadline pages the next step of its chain
(``domain.escalation``), and arms the next deadline.

Called by the engine's timers (``Engine.escalate``) and by a cannot-act answer (``followup``);
what it uses of the engine is declared in ``followup.Engine``, so neither module imports the
engine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.notification import AuditAction, NoticeKind
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.domain.escalation import next_step
from services.notifier.domain.routing import Plan, notifications_for
from services.notifier.followup import Engine

log = get_logger(__name__)


async def escalate(engine: Engine, alert_id: str) -> None:
    """The deadline passed: page the next step of the chain, unless somebody took the alert."""
    view = engine.inbox.alerts.get(alert_id)
    if view is None or view.acknowledged or view.cancelled or view.alert is None:
        return
    if view.escalation_due is None:
        return
    wait = (view.escalation_due - _now()).total_seconds()
    if wait > 0.05:  # a stale timer (the deadline moved): fire at the real one
        engine.schedule_escalation(alert_id, wait)
        return
    step = next_step(view.alert, engine.directory(), view.escalation_level)
    if step is None:
        view.escalation_due = None
        log.warning("escalation.chain_exhausted", alert_id=alert_id)
        return
    level, cp = step
    plan = Plan(
        alert=view.alert,
        now=_now(),
        notice=NoticeKind.ESCALATION,
        ack_delay=engine.config.ack_delay,
        level=level,
    )
    jobs = notifications_for(plan, [cp])  # checks dissemination again
    view.escalation_level = level
    view.escalation_due = plan.now + engine.config.ack_delay
    # Paged at once, as routing does: the journal stores the step (audit first) meanwhile, and
    # a crash before that pages the same webhook-id again after the restart.
    await engine.record(jobs, AuditAction.ESCALATED, level=level, to=cp.id)
    for job in jobs:
        engine.schedule(job)
    metrics.ESCALATIONS.inc()
    log.warning("alert.escalated", alert_id=alert_id, level=level, to=cp.id)
    engine.schedule_escalation(alert_id, engine.config.ack_delay.total_seconds())


def _now() -> datetime:
    return datetime.now(UTC)
