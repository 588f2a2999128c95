"""Wiring only: clients, engine, consumers, HTTP server, and their orderly shutdown."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from schemas.alert import ALERTS_TOPIC, URGENT_ALERTS_TOPIC
from schemas.notification import Channel
from services.common import gcpolicy
from services.common.batches import KeyPartitioner
from services.common.consume import PipelinedLoop
from services.common.fate import FateWrapper
from services.common.health import KAFKA_CONNECTED, Readiness, broker_probe
from services.common.http_server import BackgroundServer
from services.common.kafka import LOW_LATENCY_FETCH, make_consumer, make_producer
from services.common.lag import report_lag
from services.common.logging import get_logger
from services.common.tasks import cancel_and_wait
from services.notifier import metrics
from services.notifier.api import Access, create_api
from services.notifier.channels.base import ChannelSender
from services.notifier.channels.console import ConsoleChannel
from services.notifier.channels.email import EmailChannel, SmtpConfig
from services.notifier.channels.http1 import LeanPoster
from services.notifier.channels.webhook import AiohttpPoster, HttpxPoster, WebhookChannel
from services.notifier.console.session import SessionKeys
from services.notifier.directory_file import DirectoryFile
from services.notifier.domain.backoff import Backoff
from services.notifier.domain.memory import MemoryPolicy
from services.notifier.engine import Engine, EngineConfig
from services.notifier.handlers import AlertHandler, EntryHandler
from services.notifier.revocations import Revocations
from services.notifier.scheduler import Scheduler
from services.notifier.settings import NotifierSettings
from services.notifier.store import KafkaArchive, rebuild
from services.notifier.writer import Writer

log = get_logger(__name__)


POSTERS: dict[str, type[HttpxPoster | AiohttpPoster | LeanPoster]] = {
    "httpx": HttpxPoster,
    "aiohttp": AiohttpPoster,
    "lean": LeanPoster,
}
LANE_CONCURRENCY = {"httpx": 8, "aiohttp": 32, "lean": 32}
REVOCATIONS_WAIT_S = 60.0
READY_CACHE_S = 1.0  # how long /readyz trusts the broker's last answer
# Readiness conditions besides the broker's: no request may be answered from a half-built
# inbox, or before a signed-out session or a used link is known to be refused.
DELIVERIES_REBUILT, REVOCATIONS_READ = "deliveries_rebuilt", "revocations_read"


def engine_config(s: NotifierSettings) -> EngineConfig:
    return EngineConfig(
        ack_delay=timedelta(seconds=s.notifier_escalation_delay_s),
        dedup_window=timedelta(seconds=s.notifier_dedup_window_s),
        backoff=Backoff(s.notifier_retry_base_s, s.notifier_retry_max_s, s.notifier_max_attempts),
        breaker_failures=s.notifier_breaker_failures,
        breaker_open_s=s.notifier_breaker_open_s,
        link_key=s.notifier_link_secret.get_secret_value().encode(),
        link_ttl_s=s.notifier_link_ttl_s,
        public_url=s.notifier_public_url.rstrip("/"),
        memory=MemoryPolicy(
            window=timedelta(seconds=s.notifier_memory_window_s),
            closed_per_country=s.notifier_memory_closed_per_country,
        ),
    )


def session_keys(s: NotifierSettings) -> SessionKeys:
    return SessionKeys(
        current=s.notifier_session_secret.get_secret_value().encode(),
        previous=tuple(k.get_secret_value().encode() for k in s.notifier_session_previous_secrets),
        ttl_s=s.notifier_session_ttl_s,
    )


def smtp_config(s: NotifierSettings) -> SmtpConfig:
    return SmtpConfig(
        host=s.notifier_smtp_host,
        port=s.notifier_smtp_port,
        sender=s.notifier_smtp_from,
        starttls=s.notifier_smtp_starttls,
        username=s.notifier_smtp_username,
        password=s.notifier_smtp_password.get_secret_value() if s.notifier_smtp_password else None,
        timeout_s=s.notifier_smtp_timeout_s,
    )


class NotifierApp:
    """The running notifier; ``async with NotifierApp(settings) as app`` (tests use it too)."""

    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.directory = DirectoryFile(settings.notifier_directory_path)
        self.readiness = Readiness(DELIVERIES_REBUILT, REVOCATIONS_READ)
        self.port = settings.notifier_http_port
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.engine: Engine

    async def __aenter__(self) -> NotifierApp:
        s = self.settings
        stack = self._stack
        # Nothing on the delivery path waits for these writes (the committer does, behind it),
        # so a longer linger only means fewer, larger produce requests: less CPU per alert.
        partitioner = KeyPartitioner()
        producer = make_producer(
            s,
            client_id=f"{s.kafka_client_id}-notifier",
            linger_ms=10,
            partitioner=partitioner,
        )
        await producer.start()
        stack.push_async_callback(producer.stop)
        self.readiness.watch(KAFKA_CONNECTED, broker_probe(producer, READY_CACHE_S))
        writer = Writer(producer, s, partitioner)
        await writer.start()
        # After the lanes stop, before the producer: what is on its way, and the states it frees.
        stack.push_async_callback(lambda: self.engine.journal.close(writer.flush))
        client = s.notifier_webhook_client
        concurrency = s.notifier_lane_concurrency or LANE_CONCURRENCY[client]
        webhook = WebhookChannel(POSTERS[client](s.notifier_webhook_timeout_s, concurrency))
        stack.push_async_callback(webhook.aclose)
        scheduler = Scheduler(concurrency=concurrency)
        stack.push_async_callback(scheduler.stop)
        channels: dict[Channel, ChannelSender] = {
            Channel.WEBHOOK: webhook,
            Channel.EMAIL: EmailChannel(smtp_config(s)),
            Channel.CONSOLE: ConsoleChannel(),
        }
        self.engine = Engine(engine_config(s), writer, self.directory, channels, scheduler)
        self.engine.archive = KafkaArchive(s)
        revocations = Revocations(s, producer)
        self._spawn(revocations.run(), "revocations")
        await self._start_http(Access(s, revocations, session_keys(s)))
        await rebuild(self.engine, s)
        self.readiness.set(DELIVERIES_REBUILT, True, "jobs rebuilt; unfinished ones resumed")
        scheduler.start()
        resumed = self.engine.resume()
        fate = FateWrapper("notifier", producer, s.topic("alerts.dlq"))
        group = s.group(s.notifier_group_id)
        alerts = AlertHandler(self.engine)
        # Urgent alerts come twice: on their own topic, whose consumer no routine backlog holds
        # up, and in order on ``alerts``; whichever comes first routes them, the other finds
        # their jobs in the inbox.
        for topic, lane_group in ((URGENT_ALERTS_TOPIC, f"{group}-urgent"), (ALERTS_TOPIC, group)):
            await self._consume(s.topic(topic), lane_group, alerts, fate, **LOW_LATENCY_FETCH)
        entries_dlq = FateWrapper("notifier", producer, s.topic("watchlist.entries.dlq"))
        await self._consume(
            s.topic("watchlist.entries"), f"{group}-entries", EntryHandler(self.engine), entries_dlq
        )
        self._spawn(self.directory.watch(s.notifier_directory_poll_s), "directory-watch")
        self._spawn(self._retention(), "retention")
        self._spawn(self._trim(), "memory")
        urgent_lag = report_lag(
            s, f"{group}-urgent", [s.topic(URGENT_ALERTS_TOPIC)], metrics.set_lag
        )
        self._spawn(report_lag(s, group, [s.topic(ALERTS_TOPIC)], metrics.set_lag), "consumer-lag")
        self._spawn(urgent_lag, "consumer-lag-urgent")
        # A signed-out session or a used link must be refused from the first request on.
        await asyncio.wait_for(revocations.caught_up.wait(), REVOCATIONS_WAIT_S)
        self.readiness.set(REVOCATIONS_READ, True, "revoked sessions and used links known")
        log.info("notifier.started", port=self.port, resumed=resumed)
        return self

    async def _consume(
        self,
        topic: str,
        group: str,
        handler: AlertHandler | EntryHandler,
        fate: FateWrapper,
        **overrides: Any,
    ) -> None:
        consumer = make_consumer(self.settings, topic, group_id=group, **overrides)
        await consumer.start()
        self._stack.push_async_callback(consumer.stop)
        loop = PipelinedLoop(
            consumer, fate, handler, commit_interval_s=self.settings.notifier_commit_interval_s
        )
        self._spawn(loop.run(), f"consume:{topic}")

    async def _start_http(self, access: Access) -> None:
        api = create_api(self.engine, self.readiness, access)
        server = BackgroundServer(
            api, self.settings, self.settings.notifier_http_host, self.settings.notifier_http_port
        )
        self._tasks.append(await server.start())
        self.port = server.port
        self._stack.push_async_callback(server.stop)

    async def _retention(self) -> None:
        """A task of its own (never the consumer loop): forget alerts closed long ago."""
        keep = timedelta(seconds=self.settings.notifier_retention_s)
        while True:
            await self.engine.forget_closed(keep)
            await asyncio.sleep(self.settings.notifier_retention_sweep_s)

    async def _trim(self) -> None:
        """Keep memory flat: evict closed alerts past the window, expire de-dup keys."""
        while True:
            await asyncio.sleep(self.settings.notifier_memory_sweep_s)
            await self.engine.trim_memory()

    def _spawn(self, coro: object, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
        self._tasks.append(task)

    async def __aexit__(self, *exc: object) -> None:
        self.readiness.set(DELIVERIES_REBUILT, False, "stopping")
        await cancel_and_wait(self._tasks)
        await self._stack.aclose()


async def run(settings: NotifierSettings) -> None:
    async with NotifierApp(settings):
        # Its inbox grows with every alert: small young collections (gcpolicy).
        gcpolicy.settle_service_heap(stateful_young_threshold=settings.notifier_gc_young_threshold)
        # Until cancelled (SIGTERM/SIGINT via asyncio.run).
        await gcpolicy.collect_periodically("notifier", settings.notifier_full_gc_s)
