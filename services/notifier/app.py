"""Wiring only: clients, engine, consumers and HTTP server, started and stopped by the shared
lifecycle (``services.common.lifecycle``)."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from starlette.routing import BaseRoute

from schemas.alert import ALERTS_TOPIC, URGENT_ALERTS_TOPIC
from schemas.topics import TopicName
from services.common import gcpolicy
from services.common.batches import KeyPartitioner
from services.common.consume import Handler, PipelinedLoop
from services.common.fate import FateWrapper
from services.common.health import KAFKA_CONNECTED, Readiness, broker_probe
from services.common.http_server import BackgroundServer
from services.common.kafka import LOW_LATENCY_FETCH, make_consumer, make_producer, partitions_of
from services.common.lag import report_lag
from services.common.lifecycle import Lifecycle, Service
from services.common.logging import get_logger
from services.common.suppressions import SuppressionTable
from services.notifier import access_audit, metrics
from services.notifier.accounts_file import AccountsFile
from services.notifier.api import Access, create_api
from services.notifier.audit_trail import AuditTrail
from services.notifier.channels import registry
from services.notifier.console.gate import ConsoleAccess, Gate
from services.notifier.console.oidc import Oidc, OidcConfig
from services.notifier.console.session import SessionKeys
from services.notifier.console.suppressions import suppressions_router
from services.notifier.directory_file import DirectoryFile
from services.notifier.domain.backoff import Backoff
from services.notifier.domain.memory import MemoryPolicy
from services.notifier.domain.outcomes import Deadlines
from services.notifier.engine import Engine, EngineConfig
from services.notifier.errors import TopicLayoutError
from services.notifier.handlers import (
    AckHandler,
    AlertHandler,
    CancelHandler,
    EntryHandler,
    by_topic,
)
from services.notifier.handover import Handover, UrgentLane
from services.notifier.leads_model import LeadsModel
from services.notifier.ownership import Ownership
from services.notifier.reports import ReportHandler
from services.notifier.revocations import Revocations
from services.notifier.scheduler import Scheduler
from services.notifier.settings import NotifierSettings
from services.notifier.store import KafkaArchive, rebuild
from services.notifier.suppressions import HitReportHandler, SuppressionDesk
from services.notifier.tail import Tail
from services.notifier.writer import Writer

log = get_logger(__name__)


REVOCATIONS_WAIT_S = 60.0
READY_CACHE_S = 1.0  # how long /readyz trusts the broker's last answer
# Readiness conditions besides the broker's: no request may be answered from a half-built
# inbox, or before a signed-out session or a used link is known to be refused.
DELIVERIES_REBUILT, REVOCATIONS_READ = "deliveries_rebuilt", "revocations_read"
Handled = tuple[Handler, FateWrapper]  # a consumer's handler and where its failures go
CO_PARTITIONED: tuple[TopicName, ...] = (
    ALERTS_TOPIC, URGENT_ALERTS_TOPIC, "notifications.deliveries", "notifications.acks",
    "notifications.cancellations", "hit_reports",
)  # fmt: skip


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
        outcomes=Deadlines(
            timedelta(seconds=s.notifier_outcome_deadline_s),
            {k: timedelta(seconds=v) for k, v in s.notifier_outcome_deadlines.items()},
        ),
    )


async def owned_partitions(s: NotifierSettings) -> int:
    """How many partitions replicas share. Every topic the owner reads, and the deliveries it
    writes, must have as many as ``alerts``: one partition number is one owner's."""
    found = await partitions_of(s, *(s.topic(name) for name in CO_PARTITIONED))
    counts = Counter(tp.topic for tp in found)
    if len(set(counts.values())) != 1:
        raise TopicLayoutError(
            f"these topics must have equal partition counts (relay topics apply): {counts}"
        )
    return counts[s.topic(ALERTS_TOPIC)]


def session_keys(s: NotifierSettings) -> SessionKeys:
    return SessionKeys(
        current=s.notifier_session_secret.get_secret_value().encode(),
        previous=tuple(k.get_secret_value().encode() for k in s.notifier_session_previous_secrets),
        ttl_s=s.notifier_session_ttl_s,
    )


def oidc_of(s: NotifierSettings) -> Oidc | None:
    if s.notifier_oidc_issuer is None:
        return None
    secret = s.notifier_oidc_client_secret
    config = OidcConfig(
        issuer=s.notifier_oidc_issuer, client_id=s.notifier_oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        public_url=s.notifier_public_url, label=s.notifier_oidc_label,
    )  # fmt: skip
    return Oidc(config, s.notifier_session_secret.get_secret_value().encode())


class NotifierApp(Service):
    """The running notifier; ``async with NotifierApp(settings) as app`` (tests use it too)."""

    def __init__(self, settings: NotifierSettings, *, service_process: bool = False) -> None:
        super().__init__("notifier", Readiness(DELIVERIES_REBUILT, REVOCATIONS_READ))
        self.settings = settings
        self.service_process = service_process
        self.directory = DirectoryFile(settings.notifier_directory_path)
        self.accounts = AccountsFile(settings.notifier_accounts_path)
        self.routes: list[BaseRoute] = []
        self.port = settings.notifier_http_port
        self.engine: Engine

    async def start(self, life: Lifecycle) -> None:
        s = self.settings
        producer, writer = await self._open_writer(life)
        channels = registry.senders(s)
        for sender in channels.values():
            life.on_stop(sender.aclose)
        scheduler = Scheduler(concurrency=s.notifier_lane_concurrency)
        self.engine = Engine(engine_config(s), writer, self.directory, dict(channels), scheduler)
        self.engine.archive = KafkaArchive(s)
        # Drained latest first: the lanes stop, then what is on its way is flushed with the
        # states it frees, before the producer closes.
        life.on_drain(lambda: self.engine.journal.close(writer.flush))
        life.on_drain(scheduler.stop)
        revocations = Revocations(s, producer)
        life.spawn(revocations.run(), "revocations")
        oidc = oidc_of(s)
        if oidc is not None:
            life.on_stop(oidc.aclose)
        # false-match suppressions: the console's list, and the hit reports that change them
        self.suppressions = SuppressionTable(s)
        life.spawn(self.suppressions.run(), "suppressions")
        self.desk = SuppressionDesk(s, producer, self.suppressions)
        life.spawn(self.desk.forget_periodically(), "suppressions-forget")
        self.leads = LeadsModel(s)  # the analysts' view; nothing on the alert path waits for it
        life.spawn(self.leads.run(), "leads")
        console = ConsoleAccess(
            session_keys(s), revocations, self.accounts, oidc,
            audit=AuditTrail(s), leads=self.leads,
        )  # fmt: skip
        await self._start_http(life, Access(s, revocations, console))
        count = await owned_partitions(s)
        ends = await rebuild(self.engine, s)
        # Nothing is sent, escalated or reminded before the group assigns partitions (handover).
        self.engine.ownership = Ownership.of_group(count)
        self.readiness.set(DELIVERIES_REBUILT, True, "jobs rebuilt; each replica's read model")
        scheduler.start()
        tail = Tail(s, self.engine)
        life.on_stop((await tail.open(ends)).stop)
        life.spawn(tail.run(), "deliveries-tail")
        await self._consume_all(life, producer, tail)
        self._housekeeping(life)
        # A signed-out session or a used link must be refused from the first request on.
        await asyncio.wait_for(revocations.caught_up.wait(), REVOCATIONS_WAIT_S)
        self.readiness.set(REVOCATIONS_READ, True, "revoked sessions and used links known")
        if self.service_process:
            # Its inbox grows with every alert: small young collections (gcpolicy).
            gcpolicy.settle_service_heap(stateful_young_threshold=s.notifier_gc_young_threshold)
            life.spawn(gcpolicy.collect_periodically("notifier", s.notifier_full_gc_s), "gc")
        log.info("notifier.started", port=self.port, partitions=count)

    async def _open_writer(self, life: Lifecycle) -> tuple[AIOKafkaProducer, Writer]:
        s = self.settings
        # Nothing on the delivery path waits for these writes (the committer does, behind it),
        # so a longer linger only means fewer, larger produce requests: less CPU per alert.
        partitioner = KeyPartitioner()
        producer = await life.open(
            make_producer(
                s, client_id=f"{s.kafka_client_id}-notifier", linger_ms=10, partitioner=partitioner
            )
        )
        self.readiness.watch(KAFKA_CONNECTED, broker_probe(producer, READY_CACHE_S))
        writer = Writer(producer, s, partitioner)
        await writer.start()
        for watched in (self.directory, self.accounts):  # every reload is audited
            watched.listeners.append(functools.partial(access_audit.reloaded, writer))
        return producer, writer

    async def _consume_all(self, life: Lifecycle, producer: AIOKafkaProducer, tail: Tail) -> None:
        s = self.settings
        group = s.group(s.notifier_group_id)
        fate = FateWrapper("notifier", producer, s.topic("alerts.dlq"))
        urgent = await self._urgent_lane(life, fate)
        # The owned partitions: alerts and what concerns them, keyed alike (the entry id), so
        # the group's range assignment gives one replica the same partition of each.
        handover = Handover(self.engine, tail, s.topic(ALERTS_TOPIC), urgent)
        handlers: dict[str, Handler] = {
            s.topic(ALERTS_TOPIC): AlertHandler(self.engine),
            s.topic("notifications.acks"): AckHandler(self.engine),
            s.topic("notifications.cancellations"): CancelHandler(self.engine),
            s.topic("hit_reports"): ReportHandler(self.engine),
        }
        owner = make_consumer(s, group_id=group, **LOW_LATENCY_FETCH, **s.group_timing())
        await life.open(owner)
        owner.subscribe(list(handlers), listener=handover)
        loop = PipelinedLoop(
            owner, fate, by_topic(handlers), commit_interval_s=s.notifier_commit_interval_s
        )
        handover.loop = loop
        life.spawn(loop.run(), f"consume:{s.topic(ALERTS_TOPIC)}")
        # Read by any one replica: entries become cancellations for their owner; hit reports
        # change the false-match suppressions.
        lanes: list[tuple[TopicName, str, Handled]] = [
            ("watchlist.entries", f"{group}-entries", (EntryHandler(self.engine), FateWrapper(
                "notifier", producer, s.topic("watchlist.entries.dlq")))),
            ("hit_reports", f"{group}-suppressions", (HitReportHandler(self.desk), fate)),
        ]  # fmt: skip
        for topic, lane_group, (handler, lane_fate) in lanes:
            consumer = make_consumer(s, s.topic(topic), group_id=lane_group)
            await life.open(consumer)
            lane = PipelinedLoop(
                consumer, lane_fate, handler, commit_interval_s=s.notifier_commit_interval_s
            )
            life.spawn(lane.run(), f"consume:{s.topic(topic)}")

    async def _urgent_lane(self, life: Lifecycle, fate: FateWrapper) -> UrgentLane:
        """Urgent alerts come twice: on their own topic, whose consumer no routine backlog holds
        up, and in order on ``alerts``; whichever comes first routes them, the other finds their
        jobs in the inbox. It reads the partitions this replica owns (``handover``)."""
        s = self.settings
        group = s.group(s.notifier_group_id)
        consumer = make_consumer(s, group_id=f"{group}-urgent", **LOW_LATENCY_FETCH)
        await life.open(consumer)
        lane = UrgentLane(consumer, s.topic(URGENT_ALERTS_TOPIC))
        lane.follow(set())
        loop = PipelinedLoop(
            consumer, fate, AlertHandler(self.engine),
            commit_interval_s=s.notifier_commit_interval_s,
        )  # fmt: skip
        life.spawn(loop.run(), f"consume:{s.topic(URGENT_ALERTS_TOPIC)}")
        return lane

    def _housekeeping(self, life: Lifecycle) -> None:
        s = self.settings
        group = s.group(s.notifier_group_id)
        life.spawn(self.directory.watch(s.notifier_directory_poll_s), "directory-watch")
        life.spawn(self.accounts.watch(s.notifier_directory_poll_s), "accounts-watch")
        life.spawn(self._retention(), "retention")
        life.spawn(self._trim(), "memory")
        for lag_group, topic in ((group, ALERTS_TOPIC), (f"{group}-urgent", URGENT_ALERTS_TOPIC)):
            lag = report_lag(s, lag_group, [s.topic(topic)], metrics.set_lag)
            life.spawn(lag, f"consumer-lag:{topic}")

    async def _start_http(self, life: Lifecycle, access: Access) -> None:
        api = create_api(self.engine, self.readiness, access)
        gate = Gate(self.engine, access.console)
        api.include_router(suppressions_router(gate, self.desk, self.engine.writer))
        self.routes = list(api.routes)  # what is served (the console's role test reads it)
        server = BackgroundServer(
            api, self.settings, self.settings.notifier_http_host, self.settings.notifier_http_port
        )
        life.adopt(await server.start())
        self.port = server.port
        life.on_stop(server.stop)

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
