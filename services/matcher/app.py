"""Wiring only: the matcher's clients, tasks and HTTP port on the shared lifecycle.

- a task keeps the watchlist index current (``WatchlistState``: people in memory, documents
  in memory or, with ``matcher_store_path``, in the disk-backed store);
- once the index has caught up, the shared ``PipelinedLoop`` reads the event topics (consumer
  group ``matcher``; partitions spread over every matcher process) in batches of up to
  ``BATCH_MAX`` records, screens each event and sends its alerts; a committer behind it
  commits each batch once its alerts are stored, while the next batch is screened;
- a task retro-screens watchlist changes against the last N days of events;
- uvicorn serves /healthz, /readyz (index caught up) and /metrics on the matcher's port.

Guarantee: at-least-once processing with idempotent output. A batch's offsets are committed
only after the broker stored (acks=all) every alert of it and of the batches before it; if a
send fails the loop rewinds to the committed offsets and screens again. Re-screening yields
the same alert ids (from event_id and entry_id), and the notifier de-duplicates by them.
Exactly-once transactions would add a transaction per batch for no gain a recipient can see.

The event reader is the shared consume loop rather than a stream framework: each record costs a
fate-wrapper call and a batch append, not a framework's per-message tasks, queues and sensors
(``make bench-matcher`` measures events per CPU second).
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.alert import alert_topics
from services.common import gcpolicy
from services.common.batches import Batches, KeyPartitioner
from services.common.consume import PipelinedLoop
from services.common.fate import FateWrapper
from services.common.health import KAFKA_CONNECTED, Readiness, ops_app
from services.common.http_server import BackgroundServer, metrics_allowed
from services.common.kafka import LOW_LATENCY_FETCH, make_consumer, make_producer
from services.common.lag import report_lag
from services.common.lifecycle import Lifecycle, Service
from services.common.logging import get_logger
from services.common.suppressions import SuppressionTable
from services.matcher.domain import WatchlistIndex
from services.matcher.handlers import AlertPublisher, EventHandler, EventScreening
from services.matcher.metrics import MatcherMetrics
from services.matcher.retro import RetroScreener
from services.matcher.settings import MatcherSettings
from services.matcher.suppressions import MatchSuppression, batch_sink
from services.matcher.watchlist_state import WATCHLIST_CAUGHT_UP, WatchlistState

log = get_logger(__name__)

# Records per batch. Commits coalesce behind the loop, so small batches cost little, and an
# event waits only for the events before it in its batch.
BATCH_MAX = 100


class MatcherApp(Service):
    """The running matcher; ``async with MatcherApp(settings)``, built once in ``__main__``."""

    def __init__(self, settings: MatcherSettings, *, service_process: bool = False) -> None:
        super().__init__("matcher", Readiness(WATCHLIST_CAUGHT_UP))
        self.settings = settings
        self.service_process = service_process
        self.state = WatchlistState(settings)
        self.metrics = MatcherMetrics()
        self.suppressions = SuppressionTable(settings)
        self.suppression: MatchSuppression | None = None
        self.audit_topic = settings.topic("notifications.audit")
        self.port = settings.matcher_http_port

    async def start(self, life: Lifecycle) -> None:
        s = self.settings
        # A little linger batches the alerts of consecutive events into one produce request.
        partitioner = KeyPartitioner()
        producer = await life.open(make_producer(s, linger_ms=5, partitioner=partitioner))
        batches = Batches(producer, partitioner)
        await batches.start([*(s.topic(t) for t in alert_topics(urgent=True)), self.audit_topic])
        life.on_drain(batches.flush)
        self.readiness.set(KAFKA_CONNECTED, True)
        self.readiness.set(WATCHLIST_CAUGHT_UP, False, "reading watchlist.entries")
        ops = ops_app(
            self.readiness, self.metrics, self._facts, lambda auth: metrics_allowed(s, auth)
        )
        server = BackgroundServer(ops, s, s.matcher_http_host, s.matcher_http_port)
        life.adopt(await server.start())
        self.port = server.port
        life.on_stop(server.stop)
        publisher = AlertPublisher(producer, s.topic, batches)
        life.spawn(self.state.run(), "watchlist-state")
        life.spawn(self.suppressions.run(), "suppressions")
        self.suppression = MatchSuppression(
            self.suppressions, self.metrics, batch_sink(batches, self.audit_topic)
        )
        life.spawn(self._screen(producer, publisher), "screen")
        lag = report_lag(s, s.group(s.matcher_group_id), s.event_topics(), self.metrics.set_lag)
        life.spawn(lag, "consumer-lag")
        if s.matcher_retro_enabled:
            retro = RetroScreener(s, producer, publisher, self.metrics)
            retro.suppression = self.suppression
            life.spawn(retro.run(), "retro-screening")
        log.info("matcher.started", port=self.port)

    async def _screen(self, producer: AIOKafkaProducer, publisher: AlertPublisher) -> None:
        """Join the group only once the index has caught up: no event is screened against a
        partial watchlist."""
        s = self.settings
        await self.state.ready.wait()
        await self.suppressions.caught_up.wait()  # no suppressed pair alerts at start either
        if self.service_process:
            gcpolicy.settle_service_heap()  # the loaded index lives as long as the process
            self.life.spawn(gcpolicy.collect_periodically("matcher"), "gc")
        fate = FateWrapper("matcher", producer, s.topic("events.dlq"), metrics=self.metrics)
        screening = EventScreening(self.index, self.metrics, self.suppression)
        handler = EventHandler(screening, publisher)
        consumer = make_consumer(
            s, *s.event_topics(), group_id=s.group(s.matcher_group_id), max_poll_records=BATCH_MAX,
            **LOW_LATENCY_FETCH, **s.group_timing(),
        )  # fmt: skip
        async with consumer:
            loop = PipelinedLoop(
                consumer, fate, handler, max_records=BATCH_MAX,
                commit_interval_s=s.matcher_commit_interval_s,
            )  # fmt: skip
            self.readiness.set(WATCHLIST_CAUGHT_UP, True, "index caught up; it keeps reading")
            await loop.run()

    @property
    def index(self) -> WatchlistIndex:
        """The watchlist screened (set once the state opened its store)."""
        return self.state.index

    def _facts(self) -> dict[str, Any]:
        return {"watchlist_entries": len(self.index)}
