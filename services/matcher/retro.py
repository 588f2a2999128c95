"""Retro-screening: a new or changed entry is screened against the events of the last N days.

The wanted person who crossed yesterday must still be found when the notice arrives today.
A consumer group (``matcher-retro``) reads each watchlist change once across restarts; for
every batch of active entries it builds a small index of just those entries, reads the event
topics from ``now - N days`` up to their current end, and publishes the hits with
``retro: true``. The group's offsets are committed only after those alerts are stored, so a
crash repeats the scan (same alert ids) rather than skipping it. A group that has never
committed starts at the end: the initial bulk load is not retro-screened. Unreadable watchlist
records are dead-lettered here, once, to ``watchlist.entries.dlq``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from pydantic import ValidationError

from schemas.codec import decode_entry
from schemas.errors import describe_errors, summarise_errors
from schemas.event import MAX_AHEAD_OF_RECEIPT
from schemas.watchlist import WatchlistEntry
from services.common.consume import ConsumeLoop
from services.common.fate import FateWrapper
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.errors import UnreadableEntry, UnreadableEvent
from services.matcher.handlers import AlertPublisher, read_event, screen_event
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings
from services.matcher.suppressions import MatchSuppression

log = get_logger(__name__)


class StartWhereFirstAssigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """A partition the group never committed on starts at its end (the bulk load is not
    retro-screened). That position is committed at once: a member that takes the partition
    over before the first batch starts there too, not at a newer end past the entries written
    in between."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        fresh = {}
        for tp in assigned:
            if await self.consumer.committed(tp) is None:
                fresh[tp] = await self.consumer.position(tp)
        if fresh:
            await self.consumer.commit(fresh)


class RetroScreener:
    def __init__(
        self,
        settings: MatcherSettings,
        producer: AIOKafkaProducer,
        publisher: AlertPublisher,
        metrics: MatcherMetrics,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.publisher = publisher
        self.metrics = metrics  # the matcher's: its dead letters are counted there
        self.pending_entries: dict[str, WatchlistEntry] = {}
        self.scans = 0
        self.retro_alerts = 0
        self.suppression: MatchSuppression | None = None  # false matches stay silent here too

    async def run(self) -> None:
        consumer = make_consumer(
            self.settings,
            group_id=self.settings.group(self.settings.matcher_retro_group_id),
            auto_offset_reset="latest",
            **self.settings.group_timing(retro=True),
        )
        fate = FateWrapper(
            service="matcher",
            producer=self.producer,
            dead_letter_topic=self.settings.topic("watchlist.entries.dlq"),
            metrics=self.metrics,
        )
        async with consumer:
            topic = self.settings.topic("watchlist.entries")
            consumer.subscribe([topic], listener=StartWhereFirstAssigned(consumer))
            loop = ConsumeLoop(consumer, fate, self.collect, after_batch=self.scan)
            await loop.run()

    async def collect(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        if record.value is None:
            return []
        try:
            entry = decode_entry(record.value)
        except ValidationError as exc:
            errors = describe_errors(exc)
            raise UnreadableEntry(
                summarise_errors(exc), field=errors[0]["field"] if errors else None
            ) from exc
        if entry.is_active:
            self.pending_entries[entry.entry_id] = entry
        else:
            self.pending_entries.pop(entry.entry_id, None)
        return []

    async def scan(self) -> Sequence[Awaitable[Any]]:
        """Screen the window of past events against the entries of this batch."""
        if not self.pending_entries:
            return []
        index = WatchlistIndex()
        for entry in self.pending_entries.values():
            index.upsert(entry_record(entry))
        count = len(self.pending_entries)
        self.pending_entries = {}
        started = time.monotonic()
        events = hits = 0
        # The window is the events' own time, not when Kafka stored them: a late-sent event of
        # last month is not screened again, one stored late but within the window is.
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.matcher_retro_days)
        async for value in self._window():
            try:
                event = read_event(value)
            except UnreadableEvent:  # dead-lettered by the live path already
                continue
            if event.occurred_at < cutoff:
                continue
            events += 1
            alerts = screen_event(index, event, retro=True)
            if self.suppression is not None:
                alerts = self.suppression.keep_alerts(event, alerts)
            hits += len(alerts)
            await self.publisher.publish(alerts)
        self.scans += 1
        self.retro_alerts += hits
        log.info(
            "retro.scanned", entries=count, events=events, alerts=hits,
            seconds=round(time.monotonic() - started, 3),
        )  # fmt: skip
        return []

    async def _window(self) -> AsyncIterator[bytes | None]:
        """Every event value stored since now - N days (less the day an event may be stamped
        ahead of its receipt) up to the end offsets seen now; ``scan`` picks by event time."""
        days = self.settings.matcher_retro_days
        since_s = time.time() - days * 86400 - MAX_AHEAD_OF_RECEIPT.total_seconds()
        since_ms = int(since_s * 1000)
        topics = self.settings.event_topics()
        assigned = await partitions_of(self.settings, *topics)
        consumer = make_consumer(self.settings, group_id=None, max_poll_records=5000)
        async with consumer:
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            starts = await consumer.offsets_for_times(dict.fromkeys(assigned, since_ms))
            remaining = set()
            for tp in assigned:
                found = starts.get(tp)
                if found is None or found.offset >= ends[tp]:
                    continue
                consumer.seek(tp, found.offset)
                remaining.add(tp)
            while remaining:
                async for value in _drain(consumer, remaining, ends):
                    yield value


async def _drain(
    consumer: AIOKafkaConsumer, remaining: set[TopicPartition], ends: dict[TopicPartition, int]
) -> AsyncIterator[bytes | None]:
    batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=5000)
    for tp, records in batch.items():
        for record in records:
            if record.offset < ends[tp]:
                yield record.value
        if records and records[-1].offset + 1 >= ends[tp]:
            remaining.discard(tp)
    for tp in list(remaining):
        if await consumer.position(tp) >= ends[tp]:
            remaining.discard(tp)
