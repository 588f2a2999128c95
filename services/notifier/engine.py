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
from typing import Any, Protocol

from schemas.alert import Alert
from schemas.notification import (
    AuditAction,
    Channel,
    DeliveryAttempt,
    NoticeKind,
    Notification,
    NotificationState,
)
from services.common.errors import PermanentError
from services.common.logging import get_logger
from services.notifier import followup, metrics
from services.notifier.channels.base import ChannelSender, SendJob, send_safely
from services.notifier.domain.backoff import Backoff, Outcome, Verdict
from services.notifier.domain.breaker import Breaker
from services.notifier.domain.dedup import DedupWindow, dedup_key
from services.notifier.domain.directory import ContactPoint, Directory
from services.notifier.domain.inbox import FINAL_STATES, AlertView, Inbox
from services.notifier.domain.memory import (
    MemoryPolicy,
    choose_evictions,
    closed_among,
    evictable,
    to_evict,
)
from services.notifier.domain.outcomes import Deadlines
from services.notifier.domain.routing import Plan, may_send, priority_of, route
from services.notifier.domain.signing import link_token, new_claim
from services.notifier.journal import Journal
from services.notifier.reminders import OutcomeWatch
from services.notifier.scheduler import Scheduler
from services.notifier.writer import Future, Record, Writer

log = get_logger(__name__)

SWEEP_CHUNK = 1000  # alert views examined between two yields of the memory sweep
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


class Archive(Protocol):
    """The jobs memory no longer holds (``store.KafkaArchive``; an in-memory fake in tests)."""

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]: ...

    async def expired(self, cutoff: datetime, is_open: Callable[[str], bool]) -> list[str]: ...


def now() -> datetime:
    return datetime.now(UTC)


class Engine:
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
        # Entries with alerts evicted from memory: a cancellation must read those back. Bounded
        # by the watchlist's size, not by traffic.
        self.archived_entries: set[str] = set()
        self._recalling = asyncio.Lock()
        # Jobs restored without their alert, since when (``_await_alert``).
        self._awaiting_alert: dict[str, float] = {}
        self.outcomes = OutcomeWatch(self, config.outcomes)  # the 12-hour rule

    # --- routing ---------------------------------------------------------------------------

    async def on_alert(self, alert: Alert) -> list[Future]:
        """Route one alert; the returned writes must be stored before its offset is committed."""
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

        async def work() -> None:
            await self.attempt(alert_id, nid)

        priority = priority_of(job, alert or self.alert_of(job))
        if delay_s <= 0:
            self.scheduler.enqueue(lane, priority, work)
        else:
            self.scheduler.at(delay_s, lambda: self.scheduler.enqueue(lane, priority, work))

    def _job(self, n: Notification, alert: Alert, cp: ContactPoint) -> SendJob:
        return SendJob(notification=n, alert=alert, contact_point=cp, ack_url=self.ack_url(n))

    def ack_url(self, n: Notification) -> str:
        claim = new_claim(n.alert_id, n.recipient, int(time.time()) + self.config.link_ttl_s)
        token = link_token(claim, self.config.link_key)
        return f"{self.config.public_url}/v1/alerts/{n.alert_id}/ack?token={token}"

    async def attempt(self, alert_id: str, notification_id: str) -> None:
        n = self.inbox.notification(notification_id, alert_id)
        if n is None or n.state in FINAL_STATES:
            return  # delivered, acknowledged or cancelled meanwhile
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

    # --- memory and retention -------------------------------------------------------------

    def sweep_memory(self, at: datetime | None = None) -> int:
        """Evict closed alerts past the memory window or cap; expire old de-dup keys. All at
        once: at start, before any delivery (the running service uses ``trim_memory``)."""
        at = at or now()
        return self._evict(to_evict(self.inbox, at, self.config.memory), at)

    async def trim_memory(self, chunk: int = SWEEP_CHUNK) -> int:
        """``sweep_memory`` for the running service: the views are examined ``chunk`` at a time,
        yielding to deliveries in between: examined all at once, thousands of open alerts would
        stall every delivery meanwhile."""
        at = now()
        views = list(self.inbox.alerts.values())
        closed: list[AlertView] = []
        for start in range(0, len(views), chunk):
            closed += closed_among(views[start : start + chunk])
            await asyncio.sleep(0)
        return self._evict(choose_evictions(closed, at, self.config.memory), at)

    def _evict(self, alert_ids: list[str], at: datetime) -> int:
        self.dedup.prune(at)
        evicted = 0
        for alert_id in alert_ids:
            view = self.inbox.alerts.get(alert_id)
            if view is None or not evictable(view):
                continue  # reopened since it was examined (a cancellation, an escalation)
            if view.entry_id:
                self.archived_entries.add(view.entry_id)
            self.inbox.forget(alert_id)
            evicted += 1
        metrics.IN_MEMORY.set(len(self.inbox.alerts))
        return evicted

    async def recall(self, alert_id: str) -> bool:
        """Bring an evicted alert back from the topic (an answer to it arrived); True if known.
        The next sweep evicts it again once it is closed and old."""
        if alert_id in self.inbox.alerts or self.archive is None:
            return alert_id in self.inbox.alerts
        async with self._recalling:
            if alert_id not in self.inbox.alerts:
                jobs = await self.archive.recall(alert_id, lambda n: n.alert_id == alert_id)
                self._restore_all(jobs)
                metrics.RECALLS.inc()
        return alert_id in self.inbox.alerts

    async def recall_entry(self, entry_id: str) -> None:
        """Bring back the evicted alerts about an entry (it is being cancelled)."""
        if entry_id not in self.archived_entries or self.archive is None:
            return
        async with self._recalling:
            jobs = await self.archive.recall(entry_id, lambda n: n.entry_id == entry_id)
            self._restore_all([j for j in jobs if j.alert_id not in self.inbox.alerts])
            self.archived_entries.discard(entry_id)
            metrics.RECALLS.inc()

    def _restore_all(self, jobs: list[Notification]) -> None:
        # The carrier first, so the view has its alert whatever the order on the topic.
        for job in sorted(jobs, key=lambda j: j.alert is None):
            self.inbox.apply(job)

    async def forget_closed(self, older_than: timedelta) -> int:
        """Tombstone the jobs of alerts closed longer than ``older_than`` ago, so compaction
        drops them (and the copy of the alert with its personal data); the audit topic keeps
        the history without it. Those still in memory are found there, evicted ones on the
        topic. A lost tombstone is written again by the next sweep."""
        cutoff = now() - older_than
        closed = self.inbox.closed_before(cutoff)
        jobs = [nid for alert_id in closed for nid in self.inbox.forget(alert_id)]
        if self.archive is not None:
            known = set(jobs)
            found = await self.archive.expired(cutoff, self.inbox.is_open)
            jobs += [nid for nid in found if nid not in known]
        for nid in jobs:
            self.journal.tombstone(nid).add_done_callback(_log_write_failure)
        if jobs:
            log.info("notifier.retention_forgot", alerts=len(closed), jobs=len(jobs))
        return len(jobs)

    # --- restart ---------------------------------------------------------------------------

    def restore(self, n: Notification) -> None:
        """One record of the deliveries topic, read at start (latest wins)."""
        view = self.inbox.apply(n)
        if n.dedup_key and n.notice is NoticeKind.ALERT:
            at = view.alert.occurred_at if view.alert else n.created_at
            self.dedup.remember(n.dedup_key, n.alert_id, at)

    def resume(self) -> int:
        """After restore: re-send unfinished jobs, re-arm escalations. Returns jobs resumed."""
        jobs = self.inbox.pending()
        for job in jobs:
            wait = (job.next_attempt_at - now()).total_seconds() if job.next_attempt_at else 0
            self.schedule(job, wait)
        for view in self.inbox.alerts.values():
            if view.escalation_due and not view.acknowledged and not view.cancelled:
                self.schedule_escalation(
                    view.alert_id, (view.escalation_due - now()).total_seconds()
                )
        return len(jobs)

    def schedule_escalation(self, alert_id: str, delay_s: float) -> None:
        def fire() -> None:
            self.scheduler.enqueue("escalation", 0, lambda: self.escalate(alert_id))

        self.scheduler.at(delay_s, fire)

    async def escalate(self, alert_id: str) -> None:
        await followup.escalate(self, alert_id)


def _log_write_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("notification.state_write_failed", error=type(future.exception()).__name__)
