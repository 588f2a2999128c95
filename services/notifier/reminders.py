"""The 12-hour rule: an alert whose country gives no outcome by its deadline (``Deadlines``)
reminds that country's supervisor desk and the coordination centre.

Each alert paged to the country of the hit is armed once: a timer at its deadline, in the
engine's timer heap. An outcome given meanwhile makes the timer a no-op (counted ``in_time``).
A reminder is delivered like an alert (notice ``reminder``, the same channels, restriction,
retries and audit); its jobs are the record that the miss happened, so a restart arms again
only the alerts still waiting and not yet reminded (``rearm``, before memory is trimmed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from schemas.alert import Alert
from schemas.notification import AuditAction, NoticeKind, Notification
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.domain.outcomes import (
    Deadlines,
    awaits_outcome,
    outcome_of,
    reminded,
    reminder_targets,
)
from services.notifier.domain.routing import Plan, notifications_for
from services.notifier.followup import Engine as FollowupEngine
from services.notifier.scheduler import Scheduler

log = get_logger(__name__)

LANE = "outcomes"  # the scheduler lane reminders are decided in
IN_TIME, MISSED = "in_time", "missed"


class Archive(Protocol):
    """``engine.Archive`` (declared again: the engine imports this module)."""

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]: ...


class Engine(FollowupEngine, Protocol):
    scheduler: Scheduler

    def owns(self, entry_id: str | None, alert_id: str) -> bool: ...

    @property
    def archive(self) -> Archive | None: ...


class OutcomeWatch:
    def __init__(self, engine: Engine, deadlines: Deadlines) -> None:
        self.engine = engine
        self.deadlines = deadlines
        self.armed: dict[str, str] = {}  # alert id -> its list (the metric's label)
        # Every replica arms every alert it knows (its memory has them all); at the deadline
        # only the replica that owns the alert's partition then acts.
        self.entries: dict[str, str] = {}  # armed alert id -> its entry
        self.given: set[str] = set()  # armed alerts answered since: their timers do nothing
        self.to_recall: set[str] = set()  # missed, and no longer in memory
        self.recalling = asyncio.Lock()

    def arm(self, alert_id: str) -> None:
        """Start the alert's deadline, once, if its country was paged and has not answered."""
        view = self.engine.inbox.alerts.get(alert_id)
        if alert_id in self.armed or view is None or view.alert is None:
            return
        if not awaits_outcome(view) or reminded(view) or self._stale(view.alert):
            return
        self._arm(view.alert)

    def _stale(self, alert: Alert) -> bool:
        """Past its deadline by more than a whole deadline: an old alert read again (a replay,
        the first start with this rule) is not reminded, or every old one would be at once."""
        return self.deadlines.due(alert) + self.deadlines.for_alert(alert) < datetime.now(UTC)

    def _arm(self, alert: Alert) -> None:
        alert_id = alert.alert_id
        self.armed[alert_id] = alert.list.value
        self.entries[alert_id] = alert.entry_id
        delay = (self.deadlines.due(alert) - datetime.now(UTC)).total_seconds()

        def fire() -> None:
            self.engine.scheduler.enqueue(LANE, 0, lambda: self.check(alert_id))

        self.engine.scheduler.at(delay, fire)

    def rearm(self) -> int:
        """After the rebuild, before memory is trimmed, and at each takeover: every alert still
        waiting."""
        before = len(self.armed)
        for alert_id in list(self.engine.inbox.alerts):
            self.arm(alert_id)
        return len(self.armed) - before

    def answered(self, alert_id: str) -> None:
        if alert_id in self.armed:
            self.given.add(alert_id)

    async def check(self, alert_id: str) -> None:
        """The deadline passed: remind, unless an outcome came (or the entry was cancelled)."""
        list_kind = self.armed.pop(alert_id, "unknown")
        if not self.engine.owns(self.entries.pop(alert_id, None), alert_id):
            self.given.discard(alert_id)
            return  # another replica's; armed again here if this one takes it over
        if alert_id in self.given:
            self.given.discard(alert_id)
            metrics.OUTCOME_DEADLINES.labels(IN_TIME, list_kind).inc()
            return
        if alert_id not in self.engine.inbox.alerts:
            await self._recall(alert_id)  # an acknowledged alert may have left memory
        view = self.engine.inbox.alerts.get(alert_id)
        if view is None or view.alert is None or reminded(view):
            return
        if not awaits_outcome(view):
            if outcome_of(view) is not None:
                metrics.OUTCOME_DEADLINES.labels(IN_TIME, list_kind).inc()
            return
        await self._remind(view.alert)
        metrics.OUTCOME_DEADLINES.labels(MISSED, list_kind).inc()

    async def _recall(self, alert_id: str) -> None:
        """Read evicted alerts back from the deliveries topic: one scan for all the misses
        that came due meanwhile, not one per alert."""
        archive = self.engine.archive
        if archive is None:
            return
        self.to_recall.add(alert_id)
        async with self.recalling:
            if alert_id not in self.to_recall:
                return  # recalled by the scan that held the lock
            wanted = {a for a in self.to_recall if a not in self.engine.inbox.alerts}
            self.to_recall = set()
            needle = next(iter(wanted)) if len(wanted) == 1 else ""
            jobs = await archive.recall(needle, lambda n: n.alert_id in wanted)
            # Not brought back meanwhile by another path (an answer): its memory is newer.
            still = wanted - self.engine.inbox.alerts.keys()
            # The carrier first, so each view has its alert whatever the order on the topic.
            for job in sorted(jobs, key=lambda j: j.alert is None):
                if job.alert_id in still:
                    self.engine.inbox.apply(job)
            metrics.RECALLS.inc()

    async def _remind(self, alert: Alert) -> None:
        targets = reminder_targets(alert, self.engine.directory())
        plan = Plan(alert=alert, now=datetime.now(UTC), notice=NoticeKind.REMINDER)
        jobs = notifications_for(plan, targets)
        due = self.deadlines.due(alert).isoformat()
        # Paged at once, as escalations are: the journal stores each step (audit first).
        await self.engine.record(
            jobs, AuditAction.REMINDED, deadline=due, to=[cp.id for cp in targets]
        )
        for job in jobs:
            self.engine.schedule(job)
        log.warning("outcome.overdue", alert_id=alert.alert_id, reminded=len(jobs))
