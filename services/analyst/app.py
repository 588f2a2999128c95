"""Wiring only: the analyst's clients, tasks and HTTP port on the shared lifecycle.

- the copier: the shared ``PipelinedLoop`` reads the event topics and ``alerts`` (consumer
  group ``analyst``) and copies each event, and each alert's hit, into the history topic
  ``analyst.sightings``; offsets are committed once the copies are stored;
- the analysis (``history.History``): reads ``leads`` to its end, loads the state's snapshot
  (``analyst_state_dir``, if set and valid), replays the history topic's partitions from it
  (or from their first records: the state, rebuilt), then follows them and publishes each
  lead that is new or has grown to ``leads`` (key ``lead_id``); it snapshots the state
  every ``analyst_snapshot_interval_s`` and on a graceful stop;
- uvicorn serves /healthz, /readyz (history rebuilt) and /metrics on the analyst's port.

The analysis reads every partition of the history topic itself (no group): one analyst
process owns the history (deploy: one replica, Recreate). Guarantee: at-least-once copies,
and leads that are idempotent (the same evidence gives the same lead record).
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from services.analyst.handlers import Copier, LeadPublisher
from services.analyst.history import History
from services.analyst.metrics import AnalystMetrics
from services.analyst.settings import AnalystSettings
from services.analyst.snapshot import SnapshotStore
from services.common import gcpolicy
from services.common.consume import PipelinedLoop
from services.common.fate import FateWrapper
from services.common.health import KAFKA_CONNECTED, Readiness, ops_app
from services.common.http_server import BackgroundServer, metrics_allowed
from services.common.kafka import LOW_LATENCY_FETCH, make_consumer, make_producer, partitions_of
from services.common.lag import report_lag
from services.common.lifecycle import Lifecycle, Service
from services.common.logging import get_logger

log = get_logger(__name__)

HISTORY_REBUILT = "history_rebuilt"
BATCH_MAX = 500


class AnalystApp(Service):
    """The running analyst; ``async with AnalystApp(settings)``, built once in ``__main__``."""

    def __init__(self, settings: AnalystSettings, *, service_process: bool = False) -> None:
        super().__init__("analyst", Readiness(HISTORY_REBUILT))
        self.settings = settings
        self.service_process = service_process
        self.metrics = AnalystMetrics()
        self.history = History(
            settings.params(), settings.key(), self.metrics, store=_store(settings)
        )
        self.port = settings.analyst_http_port

    async def start(self, life: Lifecycle) -> None:
        s = self.settings
        producer = await life.open(make_producer(s, linger_ms=5))
        self.readiness.set(KAFKA_CONNECTED, True)
        self.readiness.set(HISTORY_REBUILT, False, "reading the history")
        ops = ops_app(
            self.readiness, self.metrics, self._facts, lambda auth: metrics_allowed(s, auth)
        )
        server = BackgroundServer(ops, s, s.analyst_http_host, s.analyst_http_port)
        life.adopt(await server.start())
        self.port = server.port
        life.on_stop(server.stop)
        fate = FateWrapper("analyst", producer, s.topic("events.dlq"), metrics=self.metrics)
        life.spawn(self._copy(producer, fate), "copy")
        life.spawn(self._analyse(producer, fate), "analyse")
        life.on_drain(lambda: self.history.save("stop"))  # once the analysis task has ended
        lag = report_lag(s, s.group(s.analyst_group_id), self._inputs(), self.metrics.set_lag)
        life.spawn(lag, "consumer-lag")
        log.info("analyst.started", port=self.port)

    def _inputs(self) -> list[str]:
        return [*self.settings.event_topics(), self.settings.topic("alerts")]

    async def _copy(self, producer: AIOKafkaProducer, fate: FateWrapper) -> None:
        s = self.settings
        copier = Copier(producer, s.topic("analyst.sightings"), s.topic("alerts"), self.metrics)
        consumer = make_consumer(
            s, *self._inputs(), group_id=s.group(s.analyst_group_id), max_poll_records=BATCH_MAX,
            **LOW_LATENCY_FETCH,
        )  # fmt: skip
        async with consumer:
            loop = PipelinedLoop(
                consumer, fate, copier, max_records=BATCH_MAX,
                commit_interval_s=s.analyst_commit_interval_s,
            )  # fmt: skip
            await loop.run()

    async def _analyse(self, producer: AIOKafkaProducer, fate: FateWrapper) -> None:
        s = self.settings
        publisher = LeadPublisher(producer, s.topic("leads"), self.metrics)
        history = await partitions_of(s, s.topic("analyst.sightings"))
        leads = await partitions_of(s, s.topic("leads"))
        consumer = make_consumer(s, group_id=None, **LOW_LATENCY_FETCH)
        async with consumer:
            self._settle_heap()  # the replay's history lives as long as the process
            seeded = await self.history.seed(consumer, leads)
            starts = await self.history.restore(consumer, history)
            changed = await self.history.replay(consumer, history, fate, starts)
            self._settle_heap()
            if self.service_process:
                self.life.spawn(gcpolicy.collect_periodically("analyst"), "gc")
            await self.history.publish(publisher, changed)
            self.readiness.set(HISTORY_REBUILT, True, "following the history")
            log.info("history.rebuilt", leads=seeded, records=self.history.replayed,
                     republished=len(changed), from_snapshot=bool(starts))  # fmt: skip
            if self.history.replayed:
                await self.history.save("rebuilt")
            await self.history.follow(consumer, publisher, fate)

    def _settle_heap(self) -> None:
        """The services' GC policy (``gcpolicy``): the history is long-lived and holds no
        cycles worth a full scan; the default collector would scan it again and again."""
        if self.service_process:
            gcpolicy.settle_service_heap()

    def _facts(self) -> dict[str, Any]:
        h = self.history
        return {"records_replayed": h.replayed, "records_analysed": h.analysed,
                "leads": len(h.book.leads), "snapshot_offsets": h.restored}  # fmt: skip


def _store(settings: AnalystSettings) -> SnapshotStore | None:
    if settings.analyst_state_dir is None:
        return None
    return SnapshotStore(
        settings.analyst_state_dir, settings.topic("analyst.sightings"), settings.key(),
        settings.params(), settings.analyst_snapshot_interval_s,
    )  # fmt: skip
