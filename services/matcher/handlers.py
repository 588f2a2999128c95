"""Thin handlers: bytes in, screening by the pure engine, alerts out.

An event's alerts are stored (acks=all) before the event counts as processed; if the broker
refuses them, the send is retried until it succeeds, so the event's offset is never committed
ahead of its alerts. Re-sending may duplicate an alert record, but never an alert id: ids come
from (event_id, entry_id), and the notifier de-duplicates by them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from schemas.alert import Alert
from schemas.codec import decode_event, encode, schema_header
from schemas.errors import describe_errors, summarise_errors
from schemas.event import Event
from services.common.fate import RetryPolicy
from services.common.logging import get_logger
from services.common.metrics import Metrics
from services.matcher.domain import Screener, WatchlistIndex, to_alert
from services.matcher.errors import UnreadableEvent

log = get_logger(__name__)

ALERT_HEADER = schema_header(Alert)
SEND_RETRY = RetryPolicy(attempts=1_000_000, base_delay_s=0.1, max_delay_s=5.0)


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


class AlertPublisher:
    """Sends alerts; ``confirm`` returns once the broker has stored every one of them."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.published = 0

    async def send(self, alerts: Sequence[Alert]) -> list[asyncio.Future[Any]]:
        """Hand the alerts to the producer; the futures resolve when they are stored."""
        return [
            await self.producer.send(
                self.topic, encode(a), key=a.alert_id.encode(), headers=[ALERT_HEADER]
            )
            for a in alerts
        ]

    async def confirm(self, alerts: Sequence[Alert], futures: Sequence[Awaitable[Any]]) -> None:
        """Wait for the first attempt; re-send (same ids) until the broker stores them all."""
        attempt = 0
        while True:
            try:
                await asyncio.gather(*futures)
            except KafkaError as exc:
                attempt += 1
                log.warning(
                    "alerts.send_failed_retrying", error=type(exc).__name__, attempt=attempt
                )
                await asyncio.sleep(SEND_RETRY.delay(min(attempt, 6)))
                try:
                    futures = await self.send(alerts)
                except KafkaError:
                    futures = [_failed()]
            else:
                self.published += len(alerts)
                return

    async def publish(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            await self.confirm(alerts, await self.send(alerts))


def _failed() -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_exception(KafkaError("send failed"))
    return future


class EventScreening:
    """Screens one event record; raises a PermanentError for a record that is not an event."""

    def __init__(self, index: WatchlistIndex, metrics: Metrics) -> None:
        self.index = index
        self.metrics = metrics
        self.screened = 0

    def handle(self, value: bytes | None) -> list[Alert]:
        started = time.perf_counter()
        event = read_event(value)
        alerts = screen_event(self.index, event)
        self.screened += 1
        self.metrics.match_latency.observe(time.perf_counter() - started)
        for alert in alerts:
            self.metrics.alerts.labels(list=alert.list.value, band=alert.band.value).inc()
        if alerts:
            log.info("event.alerted", event_id=event.event_id, alerts=len(alerts))
        return alerts
