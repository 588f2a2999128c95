"""Wiring of the streaming matcher: a faust-streaming app.

- a task keeps the in-memory watchlist index current (``WatchlistState``);
- the ``screen`` agent reads the event topics (consumer group ``matcher``; partitions spread
  over every matcher process), waits until the index has caught up, screens each event and
  stores its alerts before the event counts as processed;
- a task retro-screens watchlist changes against the last N days of events;
- faust's web server answers /healthz, /readyz (index caught up) and /metrics.

Guarantee: at-least-once processing with idempotent output. faust commits an event's offset
only after the agent has finished with it, and the agent finishes only when the broker has
stored the event's alerts; a crash re-screens, and re-screening yields the same alert ids.
Exactly-once transactions would add a transaction per commit interval for no gain a
recipient can see, since the notifier de-duplicates by alert id anyway.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.alert import Alert
from services.common.fate import Fate, FateWrapper
from services.common.kafka import make_producer
from services.common.logging import get_logger
from services.common.metrics import Metrics
from services.common.settings import SecurityProtocol
from services.matcher.domain import WatchlistIndex
from services.matcher.handlers import AlertPublisher, EventScreening
from services.matcher.records import FaustRecord
from services.matcher.retro import RetroScreener
from services.matcher.settings import MatcherSettings
from services.matcher.watchlist_state import WatchlistState

log = get_logger(__name__)

# Events whose alerts are sent but not yet confirmed; beyond this the agent waits.
MAX_IN_FLIGHT = 1000


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
        self.screening: EventScreening
        self.publisher: AlertPublisher
        self.fate: FateWrapper
        self.retro: RetroScreener | None = None

    def _build_app(self) -> faust.App:
        settings = self.settings
        app = faust.App(
            settings.group(settings.matcher_group_id),
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
        topics = [settings.topic(name) for name in settings.matcher_event_topics]
        channel = app.topic(*topics, value_type=bytes, key_type=bytes)
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
            ready = self.state.ready.is_set()
            body = {"ready": ready, "watchlist_entries": len(self.index)}
            return view.json(body, status=200 if ready else 503)

        async def metrics(view: Any, request: Any) -> Any:
            # aiohttp refuses a charset inside content_type; Prometheus needs only the version.
            content_type = CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4"
            return view.bytes(generate_latest(self.metrics.registry), content_type=content_type)

        app.page("/healthz")(healthz)
        app.page("/readyz")(readyz)
        app.page("/metrics")(metrics)

    async def _run_state(self) -> None:
        # A little linger batches the alerts of consecutive events into one produce request.
        producer = make_producer(self.settings, linger_ms=5)
        async with producer:
            publisher = AlertPublisher(producer, self.settings.topic("alerts"))
            self.publisher = publisher
            self.screening = EventScreening(self.index, self.metrics)
            self.fate = FateWrapper(
                service="matcher",
                producer=producer,
                dead_letter_topic=self.settings.topic("events.dlq"),
            )
            self.started.set()
            tasks = [asyncio.create_task(self.state.run(), name="watchlist-state")]
            if self.settings.matcher_retro_enabled:
                self.retro = RetroScreener(self.settings, producer, publisher)
                tasks.append(asyncio.create_task(self.retro.run(), name="retro-screening"))
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _screen_agent(self, stream: Any) -> None:
        """Screen each event; ack it (let faust commit it) only once its alerts are stored.

        Alerts are confirmed in background tasks so the next events are screened meanwhile;
        at most ``MAX_IN_FLIGHT`` events wait for confirmation at a time (back-pressure).
        """
        await self.started.wait()
        await self.state.ready.wait()
        manual = stream.noack()
        in_flight: set[asyncio.Task[None]] = set()
        try:
            async for event in manual.events():
                record = FaustRecord.of(event.message)
                self.metrics.events_in.labels(service="matcher", topic=record.topic).inc()
                found: list[Alert] = []
                fate = await self.fate.run(record, _bind(self.screening, record.value, found))
                if fate is Fate.DEAD_LETTERED:
                    self.metrics.dead_lettered(self.settings.topic("events.dlq"))
                if not found:
                    await manual.ack(event)
                    continue
                futures = await self.publisher.send(found)
                task = asyncio.create_task(self._ack_when_stored(manual, event, found, futures))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                if len(in_flight) >= MAX_IN_FLIGHT:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in in_flight:
                task.cancel()

    async def _ack_when_stored(
        self, stream: Any, event: Any, alerts: list[Alert], futures: list[Any]
    ) -> None:
        await self.publisher.confirm(alerts, futures)
        self.metrics.event_out(self.settings.topic("alerts"), len(alerts))
        await stream.ack(event)


def _bind(screening: EventScreening, value: bytes | None, found: list[Alert]) -> Any:
    async def call() -> None:
        found.extend(screening.handle(value))

    return call
