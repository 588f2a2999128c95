"""Thin handlers: the copier (events and alerts -> the history topic) and the analysis (one
history record -> the patterns -> leads).

The history topic (``analyst.sightings``) holds, in one order, the events as ingest wrote
them and each alert's hit as a ``ListedHit``; the ``relay-schema`` header says which.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from schemas import listed_hit
from schemas.codec import decode, decode_alert, decode_event, encode, schema_header
from schemas.errors import summarise_errors
from schemas.event import Event
from schemas.headers import H_SCHEMA
from schemas.lead import Lead, lead_key
from schemas.listed_hit import ListedHit
from services.analyst.domain import Analyser, Hit
from services.analyst.errors import UnreadableRecord
from services.analyst.metrics import AnalystMetrics
from services.common.fate import header, until_stored
from services.common.metrics import child
from services.common.topic_read import Record

EVENT_HEADER = schema_header(Event)
HIT_HEADER = schema_header(ListedHit)
LEAD_HEADER = schema_header(Lead)


def _unreadable(what: str, exc: ValidationError | ValueError) -> UnreadableRecord:
    if isinstance(exc, ValidationError):
        return UnreadableRecord(f"not {what}: {summarise_errors(exc)}")
    return UnreadableRecord(f"not {what}: {type(exc).__name__}")  # its text may quote the data


def hit_value(value: bytes | None) -> bytes:
    """An alert record as the history keeps it: its hit, without the persons' particulars."""
    if value is None:
        raise UnreadableRecord("empty record (tombstone) on the alerts topic")
    try:
        return encode(ListedHit.of(decode_alert(value)))
    except (ValidationError, ValueError) as exc:
        raise _unreadable("an alert", exc) from exc


class Copier:
    """The copier's handler for the shared consume loop: an event record is copied as it is,
    an alert as its ``ListedHit``; the loop commits once the copy is stored."""

    def __init__(
        self, producer: AIOKafkaProducer, history: str, alerts: str, metrics: AnalystMetrics
    ) -> None:
        self.producer = producer
        self.history = history
        self.alerts = alerts
        self.metrics = metrics

    async def __call__(self, record: Record) -> Sequence[Awaitable[Any]]:
        child(self.metrics.events_in, "analyst", record.topic).inc()
        if record.topic == self.alerts:
            value, kind = hit_value(record.value), HIT_HEADER
        elif record.value is None:
            raise UnreadableRecord("empty record (tombstone) on an event topic")
        else:
            value, kind = record.value, EVENT_HEADER
        return [await self.producer.send(self.history, value, headers=[kind])]


def hit_of(hit: ListedHit) -> Hit:
    restricted = tuple(hit.restricted_to) if hit.restricted_to else None
    return Hit(hit.event_id, hit.entry_id, hit.list.value, hit.band.value, restricted, hit.issuer)


class Analysis:
    """One history record through the patterns; the leads it created or grew."""

    def __init__(self, analyser: Analyser, metrics: AnalystMetrics) -> None:
        self.analyser = analyser
        self.metrics = metrics

    def handle(self, record: Record) -> list[Lead]:
        if record.value is None:
            raise UnreadableRecord("empty record (tombstone) in the history")
        started = time.perf_counter()
        if header(record, H_SCHEMA) == listed_hit.SCHEMA_VERSION:
            try:
                hit = decode(ListedHit, record.value)
            except (ValidationError, ValueError) as exc:
                raise _unreadable("a hit", exc) from exc
            leads = self.analyser.observe_hit(hit_of(hit))
        else:
            try:
                event = decode_event(record.value)
            except (ValidationError, ValueError) as exc:
                raise _unreadable("an event", exc) from exc
            leads = self.analyser.observe(event)
            self.analyser.tick(event.occurred_at)  # stream time: the history beyond is purged
        self.metrics.analysis.observe(time.perf_counter() - started)
        return leads


class LeadPublisher:
    """Writes leads to ``leads`` (key ``lead_id``: compaction keeps each lead's latest)."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, metrics: AnalystMetrics) -> None:
        self.producer = producer
        self.topic = topic
        self.metrics = metrics

    async def publish(self, leads: Iterable[Lead]) -> None:
        """Returns once the broker stored every lead (sent again until it does)."""
        encoded = [(lead_key(lead.lead_id), encode(lead), lead.pattern.value) for lead in leads]
        if not encoded:
            return

        async def store() -> None:
            send = self.producer.send
            futures = [
                await send(self.topic, v, key=k, headers=[LEAD_HEADER]) for k, v, _ in encoded
            ]
            await asyncio.gather(*futures)

        await until_stored(store, "leads")
        for _, _, pattern in encoded:
            child(self.metrics.leads, pattern).inc()
        child(self.metrics.events_out, "analyst", self.topic).inc(len(encoded))
