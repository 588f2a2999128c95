"""Wiring of the matcher's ``faust`` engine (``RELAY_MATCHER_ENGINE=faust``): a faust-streaming app.

The default engine is ``batch`` (``app.py``), which costs less than half the CPU per event;
this one is kept for deployments that run faust workers, and is tested like the default.

- a task keeps the in-memory watchlist index current (``WatchlistState``);
- the ``screen`` agent reads the event topics (consumer group ``matcher``; partitions spread
  over every matcher process), waits until the index has caught up, screens events in small
  batches and stores their alerts before an event counts as processed;
- a task retro-screens watchlist changes against the last N days of events;
- faust's web server answers /healthz, /readyz (index caught up) and /metrics.

Guarantee: at-least-once processing with idempotent output. faust commits an event's offset
only after the agent has acked it, and the agent acks an event only when the broker has
stored the event's alerts (faust commits no further than a partition's lowest unacked
offset); a crash re-screens, and re-screening yields the same alert ids.
Exactly-once transactions would add a transaction per commit interval for no gain a
recipient can see, since the notifier de-duplicates by alert id anyway.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.alert import ALERTS_TOPIC
from services.common.fate import FateWrapper
from services.common.health import KAFKA_CONNECTED, Readiness
from services.common.kafka import make_producer
from services.common.lag import report_lag
from services.common.logging import get_logger
from services.common.metrics import Metrics, child
from services.common.settings import SecurityProtocol
from services.common.tasks import cancel_and_wait
from services.matcher.domain import WatchlistIndex
from services.matcher.handlers import AlertPublisher, EncodedAlert, EventScreening
from services.matcher.records import FaustRecord
from services.matcher.retro import RetroScreener
from services.matcher.settings import MatcherSettings
from services.matcher.watchlist_state import WATCHLIST_CAUGHT_UP, WatchlistState

log = get_logger(__name__)

# Events whose alerts are sent but not yet confirmed; beyond this the agent waits.
MAX_IN_FLIGHT = 1000
# Events are taken in batches: faust's per-event cost stays, ours (a send, a task, a metric
# lookup) is paid once per batch. A batch waits at most BATCH_WITHIN_S for more events, which
# bounds the latency it adds at low rates.
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005


def _credentials(settings: MatcherSettings) -> Any:
    protocol = settings.kafka_security_protocol
    context = None
    if protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL):
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        context = ssl.create_default_context(cafile=cafile)
    if protocol in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


class Matcher:
    """Everything one matcher process holds; built once in ``__main__``."""

    def __init__(self, settings: MatcherSettings) -> None:
        self.settings = settings
        self.index = WatchlistIndex()
        self.state = WatchlistState(settings, self.index)
        self.started = asyncio.Event()
        self.app = self._build_app()
        self.metrics = Metrics(service="matcher")
        self.readiness = Readiness(WATCHLIST_CAUGHT_UP)
        self.screening: EventScreening
        self.publisher: AlertPublisher
        self.fate: FateWrapper
        self.retro: RetroScreener | None = None
        self.in_flight = InFlight(MAX_IN_FLIGHT)
        self._events_out = self.metrics.events_out.labels(
            service="matcher", topic=settings.topic(ALERTS_TOPIC)
        )

    def _build_app(self) -> faust.App:
        settings = self.settings
        group = settings.group(settings.matcher_group_id)
        settings.matcher_data_dir.mkdir(parents=True, exist_ok=True)  # faust makes one level only
        app = faust.App(
            group,
            datadir=str(settings.matcher_data_dir / group),
            broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
            broker_credentials=_credentials(settings),
            value_serializer="raw",
            key_serializer="raw",
            topic_disable_leader=True,
            topic_allow_declare=False,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            web_enabled=True,
            web_host=settings.matcher_http_host,
            web_port=settings.matcher_http_port,
            web_in_thread=False,
            stream_wait_empty=False,
            broker_commit_livelock_soft_timeout=600.0,
            broker_commit_interval=settings.matcher_commit_interval_s,
        )
        channel = app.topic(*settings.event_topics(), value_type=bytes, key_type=bytes)
        app.agent(channel, name="screen", concurrency=settings.matcher_partitions_concurrency)(
            self._screen_agent
        )
        app.task(self._run_state)
        self._add_pages(app)
        return app

    def _add_pages(self, app: faust.App) -> None:
        # faust binds page functions to a View: they are called as (view, request).
        async def healthz(view: Any, request: Any) -> Any:
            return view.json({"status": "ok"})

        async def readyz(view: Any, request: Any) -> Any:
            status, body = await self.readiness.body(self._facts)
            return view.json(body, status=status)

        async def metrics(view: Any, request: Any) -> Any:
            # aiohttp refuses a charset inside content_type; Prometheus needs only the version.
            content_type = CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4"
            return view.bytes(generate_latest(self.metrics.registry), content_type=content_type)

        app.page("/healthz")(healthz)
        app.page("/readyz")(readyz)
        app.page("/metrics")(metrics)

    def _facts(self) -> dict[str, Any]:
        return {"watchlist_entries": len(self.index)}

    async def _report_lag(self) -> None:
        group = self.settings.group(self.settings.matcher_group_id)
        await report_lag(self.settings, group, self.settings.event_topics(), self.metrics.set_lag)

    async def _run_state(self) -> None:
        # A little linger batches the alerts of consecutive events into one produce request.
        producer = make_producer(self.settings, linger_ms=5)
        async with producer:
            publisher = AlertPublisher(producer, self.settings.topic)
            self.publisher = publisher
            self.screening = EventScreening(self.index, self.metrics)
            self.fate = FateWrapper(
                service="matcher",
                producer=producer,
                dead_letter_topic=self.settings.topic("events.dlq"),
                metrics=self.metrics,
            )
            self.started.set()
            self.readiness.set(KAFKA_CONNECTED, True)
            tasks = [
                asyncio.create_task(self.state.run(), name="watchlist-state"),
                asyncio.create_task(self._report_lag(), name="consumer-lag"),
            ]
            if self.settings.matcher_retro_enabled:
                self.retro = RetroScreener(self.settings, producer, publisher, self.metrics)
                tasks.append(asyncio.create_task(self.retro.run(), name="retro-screening"))
            try:
                await asyncio.gather(*tasks)
            finally:
                await cancel_and_wait(tasks)

    async def _screen_agent(self, stream: Any) -> None:
        """Screen batches of events; ack an event (let faust commit it) once its alerts are stored.

        A batch's alerts are sent together and confirmed in a background task, so the next
        batch is screened meanwhile; at most ``MAX_IN_FLIGHT`` events wait for confirmation
        at a time (back-pressure). Events without alerts are acked at once.
        """
        await self.started.wait()
        await self.state.ready.wait()
        self.readiness.set(WATCHLIST_CAUGHT_UP, True, "index caught up; it keeps reading")
        try:
            async for batch in stream.noack_take(BATCH_MAX, within=BATCH_WITHIN_S):
                await self._screen_batch(stream, batch)
        finally:
            self.in_flight.cancel()

    async def _screen_batch(self, stream: Any, batch: Sequence[Any]) -> None:
        created_at = datetime.now(UTC)
        alerted: list[Any] = []
        alerts: list[EncodedAlert] = []
        for event in batch:
            found = await self._screen_one(event.message, created_at)
            if found:
                alerted.append(event)
                alerts.extend(found)
            else:
                await stream.ack(event)
        if alerts:
            futures = await self.publisher.send(alerts)
            stored = self._ack_when_stored(stream, alerted, alerts, futures)
            await self.in_flight.add(stored, len(alerted))

    async def _screen_one(self, message: Any, created_at: datetime) -> list[EncodedAlert]:
        child(self.metrics.events_in, "matcher", message.topic).inc()
        found: list[EncodedAlert] = []
        handler = _bind(self.screening, message.value, created_at, found)
        await self.fate.run(FaustRecord(message), handler)  # counts its dead letters
        return found

    async def _ack_when_stored(
        self, stream: Any, events: list[Any], alerts: list[EncodedAlert], futures: list[Any]
    ) -> None:
        await self.publisher.confirm(alerts, futures)
        self._events_out.inc(len(alerts))
        for event in events:
            await stream.ack(event)


class InFlight:
    """Background confirmations, bounded by the number of events they hold back."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.events = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def add(self, confirmation: Any, events: int) -> None:
        """Start ``confirmation``; wait while more than ``limit`` events are unconfirmed."""
        task: asyncio.Task[None] = asyncio.create_task(confirmation)
        self.tasks.add(task)
        self.events += events

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            self.events -= events

        task.add_done_callback(done)
        while self.events >= self.limit and self.tasks:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)

    def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()


def _bind(
    screening: EventScreening, value: bytes | None, created_at: datetime, found: list[Any]
) -> Any:
    async def call() -> None:
        found.extend(screening.handle(value, created_at))

    return call
