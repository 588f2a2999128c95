"""The notifier's memory and retention: closed alerts leave memory (``domain.memory``) and are
read back from the deliveries topic when an answer or a cancellation concerns them; jobs of
alerts closed longer than the retention are tombstoned, by the replica that owns them.

A part of ``engine.Engine`` (a base class): what it uses of the engine is declared here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from schemas.notification import Notification
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.domain.dedup import DedupWindow
from services.notifier.domain.inbox import AlertView, Inbox
from services.notifier.domain.memory import (
    MemoryPolicy,
    choose_evictions,
    closed_among,
    evictable,
    to_evict,
)
from services.notifier.journal import Journal
from services.notifier.ownership import Ownership
from services.notifier.writer import Future

log = get_logger(__name__)

SWEEP_CHUNK = 1000  # alert views examined between two yields of the memory sweep


class Archive(Protocol):
    """The jobs memory no longer holds (``store.KafkaArchive``; an in-memory fake in tests)."""

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]: ...

    async def expired(
        self, cutoff: datetime, is_open: Callable[[str], bool]
    ) -> list[Notification]: ...


class Retention:
    inbox: Inbox
    dedup: DedupWindow
    journal: Journal
    ownership: Ownership
    archive: Archive | None
    # Entries with alerts evicted from memory: a cancellation must read those back. Bounded
    # by the watchlist's size, not by traffic.
    archived_entries: set[str]
    _recalling: asyncio.Lock

    @property
    def memory_policy(self) -> MemoryPolicy:
        raise NotImplementedError

    def _owned(self, alert_id: str) -> bool:
        view = self.inbox.alerts.get(alert_id)
        return view is not None and self.ownership.owns(view.entry_id, alert_id)

    def sweep_memory(self, at: datetime | None = None) -> int:
        """Evict closed alerts past the memory window or cap; expire old de-dup keys. All at
        once: at start, before any delivery (the running service uses ``trim_memory``)."""
        at = at or now()
        return self._evict(to_evict(self.inbox, at, self.memory_policy), at)

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
        return self._evict(choose_evictions(closed, at, self.memory_policy), at)

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
        closed = [a for a in self.inbox.closed_before(cutoff) if self._owned(a)]
        jobs = [n for alert_id in closed for n in self.inbox.forget(alert_id)]
        if self.archive is not None:
            known = {n.notification_id for n in jobs}
            found = await self.archive.expired(cutoff, self.inbox.is_open)
            jobs += [
                n for n in found
                if n.notification_id not in known and self.ownership.owns(n.entry_id, n.alert_id)
            ]  # fmt: skip
        for n in jobs:
            self.journal.tombstone(n).add_done_callback(_log_write_failure)
        if jobs:
            log.info("notifier.retention_forgot", alerts=len(closed), jobs=len(jobs))
        return len(jobs)


def now() -> datetime:
    return datetime.now(UTC)


def _log_write_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("notification.state_write_failed", error=type(future.exception()).__name__)
