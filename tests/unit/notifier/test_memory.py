"""Memory stays bounded: closed alerts are evicted after the window or past the per-country cap,
de-dup keys expire, and an evicted alert can still be acknowledged or cancelled (it is read back
from the archive, here an in-memory stand-in for the deliveries topic)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.alert import Alert
from schemas.notification import (
    AckKind,
    Acknowledgement,
    AuditAction,
    Channel,
    NoticeKind,
    Notification,
    NotificationState,
)
from services.notifier.channels.base import SendJob
from services.notifier.channels.registry import SPECS
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import Directory
from services.notifier.domain.inbox import FINAL_STATES, Inbox
from services.notifier.domain.memory import MemoryPolicy, to_evict
from services.notifier.domain.routing import Plan, route
from services.notifier.engine import Engine, EngineConfig
from services.notifier.followup import acknowledge, cancel_entry
from services.notifier.writer import Future, Record
from tests.support.notifier_data import make_alert, standard_directory
from tests.support.notifier_fakes import Idle, Lane

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DIRECTORY = Directory.parse(standard_directory(lambda n: f"http://h.example/{n}"), SPECS)
DELIVERED = {"state": NotificationState.DELIVERED}


def _done() -> Future:
    future: Future = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


class Topic:
    """Writer and archive at once: the latest record per job, like the compacted topic."""

    def __init__(self) -> None:
        self.jobs: dict[str, Notification | None] = {}
        self.audits: list[tuple[str, AuditAction]] = []
        self.acks: list[Acknowledgement] = []
        self.scans = 0

    def state(self, n: Notification, *, carry_alert: bool = False) -> Future:
        self.jobs[n.notification_id] = n if carry_alert else n.model_copy(update={"alert": None})
        return _done()

    def tombstone(self, n: Notification) -> Future:
        notification_id = n.notification_id
        self.jobs[notification_id] = None
        return _done()

    def audit(self, n: Notification, action: AuditAction, **details: Any) -> Record:
        return Record("audit", n.notification_id.encode(), action.value.encode(), [])

    def write(self, record: Record) -> Future:
        self.audits.append((record.key.decode(), AuditAction(record.value.decode())))
        return _done()

    async def ack(self, ack: Acknowledgement) -> Future:
        self.acks.append(ack)
        return _done()

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]:
        self.scans += 1
        return [j for j in self.jobs.values() if j is not None and match(j)]

    async def expired(self, cutoff: datetime, is_open: Callable[[str], bool]) -> list[Notification]:
        return [
            j
            for j in self.jobs.values()
            if j is not None
            and j.state in FINAL_STATES
            and j.updated_at < cutoff
            and not is_open(j.alert_id)
        ]


def engine(topic: Topic, policy: MemoryPolicy | None = None) -> Engine:
    config = EngineConfig(memory=policy or MemoryPolicy())
    channels: dict[Channel, Any] = {c: Lane() for c in Channel}
    found = Engine(config, topic, lambda: DIRECTORY, channels, Idle())  # type: ignore[arg-type]
    found.archive = topic
    return found


async def deliver_all(e: Engine, at: datetime) -> None:
    """Every job of the inbox delivered at ``at`` (as the lanes would)."""
    jobs = [n for v in e.inbox.alerts.values() for n in v.notifications.values()]
    done = [
        n.model_copy(update={**DELIVERED, "updated_at": at})
        for n in jobs
        if n.state not in FINAL_STATES
    ]
    await asyncio.gather(*await e.record(done, AuditAction.DELIVERED))


async def take(e: Engine, alert: Alert) -> None:
    """As the alert consumer does: route, then wait until the writes are stored."""
    await asyncio.gather(*await e.on_alert(alert))


def routine() -> Alert:
    return make_alert(urgency="normal", list="yellow_notice")


def test_policy_evicts_old_closed_and_over_cap_never_open() -> None:
    inbox = Inbox()
    old, recent, newest, pending = routine(), routine(), routine(), routine()
    for alert, at in ((old, NOW - timedelta(hours=1)), (recent, NOW - timedelta(minutes=2)),
                      (newest, NOW - timedelta(minutes=1))):  # fmt: skip
        for job in route(Plan(alert, at), DIRECTORY):
            inbox.apply(job.model_copy(update=DELIVERED))
    for job in route(Plan(pending, NOW - timedelta(days=3)), DIRECTORY):
        inbox.apply(job)  # never sent yet: must stay whatever its age
    escalating = make_alert()
    plan = Plan(escalating, NOW - timedelta(days=3), ack_delay=timedelta(minutes=5))
    for job in route(plan, DIRECTORY):
        inbox.apply(job.model_copy(update=DELIVERED))  # delivered, nobody acknowledged
    policy = MemoryPolicy(window=timedelta(minutes=15), closed_per_country=1)
    assert to_evict(inbox, NOW, policy) == [recent.alert_id, old.alert_id]
    wide = MemoryPolicy(window=timedelta(minutes=15), closed_per_country=10)
    assert to_evict(inbox, NOW, wide) == [old.alert_id]


async def test_trimming_lets_deliveries_run_and_keeps_what_reopened_meanwhile() -> None:
    topic = Topic()
    e = engine(topic)
    alerts = [routine() for _ in range(5)]
    for alert in alerts:
        await take(e, alert)
    await deliver_all(e, NOW)  # days before the clock trim_memory reads: all past the window
    reopened = alerts[0]
    job = next(iter(e.inbox.alerts[reopened.alert_id].notifications.values()))

    async def fail_and_retry() -> None:
        e.inbox.apply(job.model_copy(update={"state": NotificationState.FAILED}))

    meanwhile = asyncio.create_task(fail_and_retry())
    assert await e.trim_memory(chunk=2) == 4
    assert meanwhile.done()  # it ran between two chunks, after its alert was examined
    assert list(e.inbox.alerts) == [reopened.alert_id]
    assert await e.trim_memory() == 0


async def test_evicted_alert_can_still_be_acknowledged() -> None:
    topic = Topic()
    e = engine(topic)
    alert = routine()
    await take(e, alert)
    await deliver_all(e, NOW)
    assert e.sweep_memory(NOW + timedelta(hours=1)) == 1
    assert alert.alert_id not in e.inbox.alerts
    assert await e.recall(alert.alert_id)
    assert e.inbox.is_recipient(alert.alert_id, "KAZ-NCB")
    assert e.inbox.alerts[alert.alert_id].alert == alert  # the carrier brought it back
    ack = Acknowledgement(
        alert_id=alert.alert_id, kind=AckKind.ACKNOWLEDGED, contact_point="KAZ-NCB", at=NOW
    )
    await asyncio.gather(*await acknowledge(e, ack))  # at its owner: until its states are stored
    states = {
        j.recipient: j.state for j in topic.jobs.values() if j and j.alert_id == alert.alert_id
    }
    assert states["KAZ-NCB"] is NotificationState.ACKNOWLEDGED
    assert not await e.recall("a-" + "f" * 32)  # unknown: a clear no (the API answers 403)


async def test_evicted_alert_is_cancelled_with_its_entry() -> None:
    topic = Topic()
    e = engine(topic)
    alert = routine()
    await take(e, alert)
    await deliver_all(e, NOW)
    e.sweep_memory(NOW + timedelta(hours=1))
    assert e.inbox.by_entry(alert.entry_id) == []
    assert alert.entry_id in e.archived_entries
    await asyncio.gather(*await cancel_entry(e, alert.entry_id))
    cancellations = [
        j for j in topic.jobs.values() if j is not None and j.notice is NoticeKind.CANCELLATION
    ]
    assert {j.recipient for j in cancellations} == {"KAZ-NCB", "UZB-NCB"}
    assert e.inbox.alerts[alert.alert_id].cancelled
    assert alert.entry_id not in e.archived_entries
    # Cancelled again: nothing read back, nothing sent.
    await asyncio.gather(*await cancel_entry(e, alert.entry_id))
    assert topic.scans == 1


async def test_retention_tombstones_evicted_jobs_from_the_archive() -> None:
    topic = Topic()
    e = engine(topic)
    alert = routine()
    await take(e, alert)
    await deliver_all(e, datetime.now(UTC) - timedelta(days=40))
    e.sweep_memory()
    assert alert.alert_id not in e.inbox.alerts
    assert await e.forget_closed(timedelta(days=30)) == 2
    assert all(value is None for value in topic.jobs.values())


async def test_memory_stays_bounded_under_a_flood() -> None:
    topic = Topic()
    policy = MemoryPolicy(window=timedelta(minutes=15), closed_per_country=50)
    e = engine(topic, policy)
    e.dedup.window = timedelta(minutes=30)
    sizes = []
    for minute in range(120):
        at = NOW + timedelta(minutes=minute)
        for _ in range(20):
            await take(e, routine().model_copy(update={"occurred_at": at}))
        await deliver_all(e, at)
        e.sweep_memory(at)
        sizes.append((len(e.inbox.alerts), len(e.dedup.first)))
    # 2400 alerts went through; memory holds at most the cap per country (KAZ and UZB
    # receive every one), de-dup keys at most 31 minutes' worth.
    assert max(a for a, _ in sizes) <= 50
    assert max(d for _, d in sizes) <= 31 * 20
    assert sizes[-1] == sizes[60]  # flat
    assert sum(1 for j in topic.jobs.values() if j is not None) == 2400 * 2  # all on the topic


class Recording(Lane):
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, job: SendJob) -> Outcome:
        self.sent.append(job.notification.notification_id)
        return Outcome(Verdict.DELIVERED, status_code=200)


async def test_a_job_restored_without_its_alert_waits_for_the_alert() -> None:
    """Only the carrier job stores the alert: a crash may store another job's state first.
    After the restart that job waits until its alert is read again, then goes out."""
    topic, lane = Topic(), Recording()
    e = Engine(EngineConfig(), topic, lambda: DIRECTORY, dict.fromkeys(Channel, lane), Idle())  # type: ignore[arg-type]
    alert = routine()
    carrier, other = route(Plan(alert, NOW), DIRECTORY)[:2]
    e.restore(other.model_copy(update={"alert": None}))  # the carrier's state was lost
    await e.attempt(alert.alert_id, other.notification_id)
    assert lane.sent == []
    assert AuditAction.DEAD_LETTERED not in {action for _, action in topic.audits}
    await take(e, alert)  # its offset was not committed: read again
    await e.attempt(alert.alert_id, other.notification_id)
    assert lane.sent == [other.notification_id]
    assert e.inbox.alerts[alert.alert_id].carrier == carrier.notification_id
