"""Thin handlers: bytes in, screening by the pure screener, alerts out.

The live path writes alert bytes straight from the screener's match (``to_alert_json``) and
splices on what the event said (type, location, traveller, document) as JSON serialised by the
event's own validated sub-models, so no Alert model is built per alert; the result is the same
Alert (tests/unit/matcher/test_stream_alerts.py holds the two paths level). Retro-screening
keeps the model path: it is rare, and its alerts say ``retro: true``.

An event's alerts are stored (acks=all) before the event counts as processed; if the broker
refuses them, the send is retried until it succeeds, so the event's offset is never committed
ahead of its alerts. Re-sending may duplicate an alert record, but never an alert id: ids come
from (event_id, entry_id), and the notifier de-duplicates by them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic import BaseModel, ValidationError

from schemas.alert import Alert, alert_key, alert_topics, pages
from schemas.codec import decode_event, encode, schema_header
from schemas.errors import describe_errors, summarise_errors
from schemas.event import Event
from schemas.topics import TopicName
from services.common.batches import Batches
from services.common.fate import until_stored
from services.common.logging import get_logger
from services.common.metrics import child
from services.matcher.domain import Match, Screener, WatchlistIndex, to_alert, to_alert_json
from services.matcher.errors import UnreadableEvent
from services.matcher.metrics import MatcherMetrics
from services.matcher.suppressions import MatchSuppression

log = get_logger(__name__)

ALERT_HEADER = schema_header(Alert)
# ``settings.topic``: a catalogue name to the name on the broker (with the prefix).
PhysicalName = Callable[[TopicName], str]


def read_event(value: bytes | None) -> Event:
    if value is None:
        raise UnreadableEvent("empty record (tombstone) on an event topic")
    try:
        return decode_event(value)
    except ValidationError as exc:
        errors = describe_errors(exc)
        field = errors[0]["field"] if errors else None
        raise UnreadableEvent(summarise_errors(exc), field=field) from exc


def screen_event(index: WatchlistIndex, event: Event, *, retro: bool = False) -> list[Alert]:
    """The event's alerts, with what the event said attached for the contact point's screen."""
    matches = Screener(index).screen(event)
    if not matches:
        return []
    now = datetime.now(UTC)
    context = {
        "retro": retro,
        "event_type": event.type,
        "location": event.location,
        "traveller": event.traveller,
        "event_document": event.document,
    }
    return [to_alert(match, now).model_copy(update=context) for match in matches]


@dataclass(frozen=True, slots=True)
class EncodedAlert:
    """One alert as it goes on the wire (key: ``schemas.alert.alert_key``), with its metric
    labels."""

    key: bytes
    value: bytes
    list: str
    band: str
    urgent: bool  # also written to the urgent topic (``schemas.alert.alert_topics``)

    @classmethod
    def of(cls, alert: Alert) -> EncodedAlert:
        key, value = alert_key(alert.entry_id), encode(alert)
        return cls(key, value, alert.list.value, alert.band.value, alert.urgent)


def screen_encoded(index: WatchlistIndex, event: Event, created_at: datetime) -> list[EncodedAlert]:
    """``screen_event``'s alerts (retro false) as wire bytes, without an Alert model each."""
    return encode_matches(event, Screener(index).screen(event), created_at)


def encode_matches(
    event: Event, matches: Sequence[Match], created_at: datetime
) -> list[EncodedAlert]:
    if not matches:
        return []
    context = _context_json(event)
    return [_encoded(match, created_at, context) for match in matches]


def _encoded(match: Match, created_at: datetime, context: bytes) -> EncodedAlert:
    body = to_alert_json(match, created_at)
    # body is one JSON object; the event's fields go in before its closing brace.
    value = body[:-1] + context
    urgent = pages(match.band, match.urgency, match.list, match.subject_minor)
    return EncodedAlert(alert_key(match.entry_id), value, str(match.list), str(match.band), urgent)


def _context_json(event: Event) -> bytes:
    """``,"event_type":..,"location":..,"traveller":..,"event_document":..}`` (None left out)."""
    parts = [b'"event_type":' + orjson.dumps(event.type.value)]
    if event.location is not None:
        parts.append(b'"location":' + _model_json(event.location))
    parts.append(b'"traveller":' + _model_json(event.traveller))
    if event.document is not None:
        parts.append(b'"event_document":' + _model_json(event.document))
    return b"," + b",".join(parts) + b"}"


def _model_json(model: BaseModel) -> bytes:
    # The sub-model's own serializer: what encode() writes for it inside an Alert.
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)


class AlertPublisher:
    """Sends alerts; ``confirm`` returns once the broker has stored every one of them.

    With ``batches`` (the live matcher) an alert is appended to its partition's open batch
    instead of going through ``producer.send``, which costs more than building the record.
    """

    def __init__(
        self, producer: AIOKafkaProducer, topic: PhysicalName, batches: Batches | None = None
    ) -> None:
        self.producer = producer
        self.topic, self.urgent_topic = (topic(t) for t in alert_topics(urgent=True))
        self.batches = batches
        self.published = 0

    async def send(self, alerts: Sequence[EncodedAlert]) -> list[asyncio.Future[Any]]:
        """Hand the alerts to the producer; the futures resolve when they are stored. Every
        alert's future on ``topic`` comes first, in order; then those on ``urgent_topic``."""
        urgent = [a for a in alerts if a.urgent]
        return [*await self._send(self.topic, alerts), *await self._send(self.urgent_topic, urgent)]

    async def _send(self, topic: str, alerts: Sequence[EncodedAlert]) -> list[asyncio.Future[Any]]:
        headers = [ALERT_HEADER]
        if self.batches is not None:
            add = self.batches.add
            return [add(topic, a.key, a.value, headers) for a in alerts]
        send = self.producer.send
        return [await send(topic, a.value, key=a.key, headers=headers) for a in alerts]

    async def confirm(
        self, alerts: Sequence[EncodedAlert], futures: Sequence[Awaitable[Any]]
    ) -> None:
        """Wait for the first attempt; re-send (same ids) until the broker stores them all."""
        first = [futures]

        async def store() -> None:
            await asyncio.gather(*(first.pop() if first else await self.send(alerts)))

        await until_stored(store, "alerts")
        self.published += len(alerts)

    async def publish(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            encoded = [EncodedAlert.of(alert) for alert in alerts]
            await self.confirm(encoded, await self.send(encoded))


class EventScreening:
    """Screens one event record; raises a PermanentError for a record that is not an event."""

    def __init__(
        self,
        index: WatchlistIndex,
        metrics: MatcherMetrics,
        suppression: MatchSuppression | None = None,
    ) -> None:
        self.index = index
        self.metrics = metrics
        self.suppression = suppression
        self.screened = 0

    def handle(self, value: bytes | None, created_at: datetime) -> list[EncodedAlert]:
        started = time.perf_counter()
        event = read_event(value)
        matches = Screener(self.index).screen(event)
        if self.suppression is not None:
            matches = self.suppression.keep(event, matches)
        alerts = encode_matches(event, matches, created_at)
        self.screened += 1
        self.metrics.match_latency.observe(time.perf_counter() - started)
        for alert in alerts:
            child(self.metrics.alerts, alert.list, alert.band).inc()
        if alerts:
            log.info("event.alerted", event_id=event.event_id, alerts=len(alerts))
        return alerts


class EventHandler:
    """The live matcher's handler for ``ConsumeLoop``: screen one event record and hand its
    alerts to the producer; the loop commits the record once every returned future resolved."""

    def __init__(self, screening: EventScreening, publisher: AlertPublisher) -> None:
        self.screening = screening
        self.publisher = publisher
        # Alerts out, each once: its copy on the urgent topic is not a second alert.
        self._events_out = child(screening.metrics.events_out, "matcher", publisher.topic)

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        child(self.screening.metrics.events_in, "matcher", record.topic).inc()
        alerts = self.screening.handle(record.value, datetime.now(UTC))
        # a suppressed match's audit record is stored before the offset, as an alert is
        silenced = self.screening.suppression.written() if self.screening.suppression else ()
        if not alerts:
            return silenced
        futures = await self.publisher.send(alerts)
        for future in futures[: len(alerts)]:  # ``send``: each alert's own future first
            future.add_done_callback(self._count_stored)
        return [*futures, *silenced] if silenced else futures

    def _count_stored(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._events_out.inc()
