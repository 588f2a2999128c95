"""The notifier's core: route alerts into jobs, deliver each over its lane, record every step.

State lives in ``Inbox`` (memory) and ``notifications.deliveries`` (Kafka, the durable copy).
Each change is applied to the inbox and written with its audit record; a restart rebuilds the
inbox from the topic and re-sends what is not final (same webhook-id). Memory holds open alerts
and recently closed ones only (``domain.memory``); older ones are read back from the topic
(``archive``) when an answer or a cancellation concerns them.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.alert import Alert
from schemas.notification import (
    Acknowledgement,
    AuditAction,
    Channel,
    DeliveryAttempt,
    NoticeKind,
    Notification,
    NotificationState,
)
from services.common.errors import PermanentError
from services.common.logging import get_logger
from services.notifier import escalations, metrics
from services.notifier.channels.base import ChannelSender, SendJob, send_safely
from services.notifier.domain.backoff import Backoff, Outcome, Verdict
from services.notifier.domain.breaker import Breaker
from services.notifier.domain.dedup import DedupWindow, dedup_key
from services.notifier.domain.directory import ContactPoint, Directory
from services.notifier.domain.inbox import FINAL_STATES, AlertView, Inbox
from services.notifier.domain.memory import (
    MemoryPolicy,
)
from services.notifier.domain.outcomes import Deadlines
from services.notifier.domain.routing import Plan, may_send, priority_of, route
from services.notifier.domain.signing import link_token, new_claim
from services.notifier.journal import Journal
from services.notifier.ownership import Ownership
from services.notifier.reminders import OutcomeWatch
from services.notifier.retention import Archive, Retention
from services.notifier.scheduler import Scheduler
from services.notifier.writer import Future, Record, Writer

log = get_logger(__name__)

# How long a job restored without its alert waits for the alert to be read again.
ALERT_WAIT_S = 300.0


@dataclass(frozen=True)
class EngineConfig:
    ack_delay: timedelta = timedelta(minutes=5)
    dedup_window: timedelta = timedelta(hours=1)
    backoff: Backoff = field(default_factory=Backoff)
    breaker_failures: int = 5
    breaker_open_s: float = 10.0
    # Never a built-in key: without one from the settings, links live as long as the process.
    link_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    link_ttl_s: int = 8 * 3600
    public_url: str = "http://127.0.0.1:8081"
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)
    outcomes: Deadlines = field(default_factory=Deadlines)


def now() -> datetime:
    return datetime.now(UTC)


class Engine(Retention):
    def __init__(
        self,
        config: EngineConfig,
        writer: Writer,
        directory: Callable[[], Directory],
        channels: dict[Channel, ChannelSender],
        scheduler: Scheduler,
    ) -> None:
        self.config = config
        self.writer = writer
        self.journal = Journal(writer)
        self.directory = directory
        self.channels = channels
        self.scheduler = scheduler
        self.inbox = Inbox()
        self.dedup = DedupWindow(config.dedup_window)
        self.breakers: dict[str, Breaker] = {}
        self.rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self.archive: Archive | None = None
        self.archived_entries: set[str] = set()
        self._recalling = asyncio.Lock()
        # Jobs restored without their alert, since when (``_await_alert``).
        self._awaiting_alert: dict[str, float] = {}
        self.outcomes = OutcomeWatch(self, config.outcomes)  # the 12-hour rule
        # The alerts this replica acts on (all of them until a consumer group says otherwise).
        self.ownership = Ownership()
        self._sending: set[str] = set()  # jobs with a send under way
        self._answer_waiters: dict[tuple[str, str, datetime], asyncio.Event] = {}

    @property
    def memory_policy(self) -> MemoryPolicy:
        return self.config.memory

    # --- ownership -------------------------------------------------------------------------

    def owns(self, entry_id: str | None, alert_id: str) -> bool:
        return self.ownership.owns(entry_id, alert_id)

    def owns_view(self, view: AlertView) -> bool:
        return self.ownership.owns(view.entry_id, view.alert_id)

    def take_over(self, partitions: set[int]) -> int:
        """The group assigned these partitions: act on their alerts from now on. Earlier timers
        are void (a new epoch); what is still to do is scheduled again. Returns jobs resumed."""
        self.ownership.assign(partitions)
        resumed = self.resume()
        self.outcomes.rearm()
        return resumed

    def apply_remote(self, n: Notification) -> None:
        """A job state another replica wrote (read from the deliveries topic): the read model.
        Ignored for owned alerts: this replica wrote it, and its memory is newer."""
        if not self.owns(n.entry_id, n.alert_id):
            self.restore(n)

    def take_ack(self, ack: Acknowledgement) -> AlertView:
        """An answer seen (by the owner, or on the topic by the others): once per answer."""
        view = self.inbox.view(ack.alert_id)
        same = (ack.contact_point, ack.kind, ack.at)
        if not any((a.contact_point, a.kind, a.at) == same for a in view.acks):
            self.inbox.apply_ack(ack)
        waiter = self._answer_waiters.pop((ack.alert_id, ack.contact_point, ack.at), None)
        if waiter is not None:
            waiter.set()
        return view

    async def seen(self, ack: Acknowledgement, timeout_s: float) -> bool:
        """Until this replica's memory shows the answer (applied by the owner, perhaps another
        replica, and read back); False after ``timeout_s``."""
        view = self.inbox.alerts.get(ack.alert_id)
        if view is not None and any(
            a.at == ack.at and a.contact_point == ack.contact_point for a in view.acks
        ):
            return True
        key = (ack.alert_id, ack.contact_point, ack.at)
        waiter = self._answer_waiters.setdefault(key, asyncio.Event())
        try:
            async with asyncio.timeout(timeout_s):
                await waiter.wait()
        except TimeoutError:
            return False
        finally:
            self._answer_waiters.pop(key, None)
        return True

    def at(self, delay_s: float, callback: Callable[[], None]) -> None:
        """A timer of this ownership epoch: void if the partitions changed hands meanwhile."""
        epoch = self.ownership.epoch

        def fire() -> None:
            if self.ownership.epoch == epoch:
                callback()

        self.scheduler.at(delay_s, fire)

    # --- routing ---------------------------------------------------------------------------

    async def on_alert(self, alert: Alert) -> list[Future]:
        """Route one alert; the returned writes must be stored before its offset is committed."""
        if not self.owns(alert.entry_id, alert.alert_id):
            # Read by the urgent lane during a handover: the owner meets it again on ``alerts``.
            return []
        key = dedup_key(alert)
        notice = self.dedup.decide(key, alert.alert_id, alert.occurred_at)
        urgent = alert.urgent and notice is NoticeKind.ALERT
        plan = Plan(
            alert=alert,
            now=now(),
            notice=notice,
            ack_delay=self.config.ack_delay if urgent else None,
            dedup_key=key,
        )
        jobs = route(plan, self.directory())
        if not jobs:
            raise PermanentError("no contact point may receive this alert", field="country")
        fresh = [j for j in jobs if self.inbox.notification(j.notification_id, j.alert_id) is None]
        writes = await self.record(fresh, AuditAction.ROUTED, notice=notice.value)
        # Read again (a rewind) while its first writes are still retrying: wait for those too.
        if len(fresh) < len(jobs):
            for job in jobs:
                if earlier := self.journal.stored(job.notification_id):
                    writes.append(earlier)
        for job in fresh:
            self.schedule(job, alert=alert)
        if urgent and fresh and plan.ack_delay is not None:
            self.schedule_escalation(alert.alert_id, plan.ack_delay.total_seconds())
        metrics.ROUTED.inc(len(fresh))
        return writes

    async def record(
        self, jobs: list[Notification], action: AuditAction, **details: Any
    ) -> list[Future]:
        """Apply each job to the inbox and write it with its audit record; the futures resolve
        once the states are stored (after their audit records, ``journal``)."""
        return [self._write(job, (action, dict(details))) for job in jobs]

    def alert_of(self, n: Notification) -> Alert | None:
        """The job's alert: its own, or its alert view's (stored jobs are compact)."""
        if n.alert is not None:
            return n.alert
        view = self.inbox.alerts.get(n.alert_id)
        return view.alert if view is not None else None

    # --- delivery --------------------------------------------------------------------------

    def schedule(self, job: Notification, delay_s: float = 0.0, alert: Alert | None = None) -> None:
        cp = self.directory().get(job.recipient)
        lane = f"orphan:{job.recipient}"
        if cp is not None:
            lane = self.channels[job.channel].lane_of(job, cp)
        alert_id, nid = job.alert_id, job.notification_id
        epoch = self.ownership.epoch

        async def work() -> None:
            if self.ownership.epoch == epoch:
                await self.attempt(alert_id, nid)

        priority = priority_of(job, alert or self.alert_of(job))
        if delay_s <= 0:
            self.scheduler.enqueue(lane, priority, work)
        else:
            self.at(delay_s, lambda: self.scheduler.enqueue(lane, priority, work))

    def _job(self, n: Notification, alert: Alert, cp: ContactPoint) -> SendJob:
        return SendJob(notification=n, alert=alert, contact_point=cp, ack_url=self.ack_url(n))

    def ack_url(self, n: Notification) -> str:
        claim = new_claim(n.alert_id, n.recipient, int(time.time()) + self.config.link_ttl_s)
        token = link_token(claim, self.config.link_key)
        return f"{self.config.public_url}/v1/alerts/{n.alert_id}/ack?token={token}"

    async def attempt(self, alert_id: str, notification_id: str) -> None:
        n = self.inbox.notification(notification_id, alert_id)
        if n is None or n.state in FINAL_STATES or notification_id in self._sending:
            return  # delivered, acknowledged or cancelled meanwhile, or being sent
        if not self.owns(n.entry_id, alert_id):
            return  # handed over: its owner sends it
        self._sending.add(notification_id)
        try:
            await self._attempt(n)
        finally:
            self._sending.discard(notification_id)

    async def _attempt(self, n: Notification) -> None:
        cp = self.directory().get(n.recipient)
        alert = self.alert_of(n)
        if alert is None and self._await_alert(n):
            return
        # Checked again right before sending: the directory may have changed since routing.
        if cp is None or cp.country != n.country or alert is None or not may_send(n, alert):
            await self._dead(n, "recipient not allowed or no longer in the directory")
            return
        if self._awaiting_alert:
            self._awaiting_alert.pop(n.notification_id, None)  # its alert came back
        channel = self.channels[n.channel]
        job = self._job(n, alert, cp)
        lane = channel.lane_of(n, cp)
        breaker = self._breaker(lane)
        if not breaker.allow(time.monotonic()):
            metrics.circuit(lane, breaker.state.value)
            self.schedule(n, breaker.retry_in(time.monotonic()) + self.rng.uniform(0, 0.5))
            return
        outcome = await send_safely(channel, job)
        await self._settle(n, outcome, breaker)
        metrics.circuit(lane, breaker.state.value)

    def _await_alert(self, n: Notification) -> bool:
        """A job restored without its alert: only the job that carries the alert stores it, and
        a crash can store the others' states before it. Its alert is then read again (its
        offset was not committed): try again shortly. False once waited too long."""
        first = self._awaiting_alert.setdefault(n.notification_id, time.monotonic())
        if time.monotonic() - first > ALERT_WAIT_S:
            del self._awaiting_alert[n.notification_id]
            return False
        self.schedule(n, 1.0)
        return True

    def _breaker(self, lane: str) -> Breaker:
        found = self.breakers.get(lane)
        if found is None:
            found = self.breakers[lane] = Breaker(
                self.config.breaker_failures, self.config.breaker_open_s
            )
        return found

    async def _settle(self, n: Notification, outcome: Outcome, breaker: Breaker) -> None:
        at = now()
        number = len(n.attempts) + 1
        attempt = DeliveryAttempt(
            attempt=number,
            at=at,
            ok=outcome.verdict is Verdict.DELIVERED,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        attempts = [*n.attempts, attempt][-20:]  # the record stays small on long outages
        sent = {"attempt": number, "status": outcome.status_code, "error": outcome.error}
        metrics.ATTEMPTS.labels(n.channel.value, outcome.verdict.value).inc()
        if outcome.verdict is Verdict.DELIVERED:
            breaker.success()
            done = n.model_copy(
                update={"state": NotificationState.DELIVERED, "updated_at": at,
                        "attempts": attempts, "next_attempt_at": None}
            )  # fmt: skip
            self._write(done, (AuditAction.SENT, sent), (AuditAction.DELIVERED, {}))
            return
        if outcome.verdict is Verdict.PERMANENT or self.config.backoff.exhausted(number):
            await self._dead(n.model_copy(update={"attempts": attempts}), outcome.error or "failed")
            return
        breaker.failure(time.monotonic())
        delay = self.config.backoff.delay(number, outcome, self.rng)
        retry = n.model_copy(
            update={"state": NotificationState.FAILED, "updated_at": at, "attempts": attempts,
                    "next_attempt_at": at + timedelta(seconds=delay)}
        )  # fmt: skip
        retried = {"next_attempt_in_s": round(delay, 3), **sent}
        self._write(retry, (AuditAction.SENT, sent), (AuditAction.RETRIED, retried))
        self.schedule(retry, delay)

    async def _dead(self, n: Notification, reason: str) -> None:
        dead = n.model_copy(update={"state": NotificationState.DEAD_LETTERED, "updated_at": now()})
        details = {"reason": reason}
        letter = self.writer.dead_letter(dead, self.alert_of(n), reason, len(n.attempts))
        self._write(
            dead, (AuditAction.FAILED, details), (AuditAction.DEAD_LETTERED, details), also=[letter]
        )
        log.warning("notification.dead_lettered", notification_id=n.notification_id, reason=reason)

    def _write(
        self,
        n: Notification,
        *audits: tuple[AuditAction, dict[str, Any]],
        also: list[Record] | None = None,
    ) -> Future:
        """Apply the job's change and write it: its audit records, then its state. The lane
        moves on while the broker confirms; if the state is not stored, a restart sends the
        same webhook-id again."""
        view = self.inbox.apply(n)
        records = [self.writer.audit(n, action, **details) for action, details in audits]
        carry = view.carrier == n.notification_id
        return self.journal.change(n, [*records, *(also or [])], carry_alert=carry)

    # --- restart ---------------------------------------------------------------------------

    def restore(self, n: Notification) -> None:
        """One record of the deliveries topic, read at start (latest wins)."""
        view = self.inbox.apply(n)
        if n.dedup_key and n.notice is NoticeKind.ALERT:
            at = view.alert.occurred_at if view.alert else n.created_at
            self.dedup.remember(n.dedup_key, n.alert_id, at)

    def resume(self) -> int:
        """After restore: re-send the owned alerts' unfinished jobs, re-arm their escalations.
        Returns jobs resumed."""
        jobs = [n for n in self.inbox.pending() if self.owns(n.entry_id, n.alert_id)]
        for job in jobs:
            wait = (job.next_attempt_at - now()).total_seconds() if job.next_attempt_at else 0
            self.schedule(job, wait)
        for view in self.inbox.alerts.values():
            if not self.owns_view(view):
                continue
            if view.escalation_due and not view.acknowledged and not view.cancelled:
                self.schedule_escalation(
                    view.alert_id, (view.escalation_due - now()).total_seconds()
                )
        return len(jobs)

    def schedule_escalation(self, alert_id: str, delay_s: float) -> None:
        def fire() -> None:
            self.scheduler.enqueue("escalation", 0, lambda: self.escalate(alert_id))

        self.at(delay_s, fire)

    async def escalate(self, alert_id: str) -> None:
        await escalations.escalate(self, alert_id)
