"""False-match feedback in the matcher: a name-based match of a (traveller, entry) pair that a
supervisor found false is not alerted at the posts of that supervisor's country.

The match is still counted (``relay_suppressed_matches_total{list}``) and written to the audit
trail as ``match_suppressed``, under the alert id it would have had, with the suppression that
silenced it: ``relay audit --entry ID`` or ``--action match_suppressed`` shows them. The
audit record is stored before the event's offset is committed, like an alert. Document hits
are never suppressed, and an event without a document has no identity to suppress.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from schemas.alert import Alert, AlertKind, alert_id_for
from schemas.codec import encode
from schemas.event import Event
from schemas.notification import AuditAction, AuditRecord
from schemas.suppression import TravellerIdentity
from services.common.audit import AUDIT_HEADER, audit_key, audit_record
from services.common.batches import Batches
from services.common.logging import get_logger
from services.common.metrics import child
from services.common.suppressions import SuppressionTable
from services.matcher.domain import Match
from services.matcher.metrics import MatcherMetrics

log = get_logger(__name__)

ACTOR = "matcher"
AuditSink = Callable[[AuditRecord], "asyncio.Future[Any]"]


class _Hit(NamedTuple):
    """What the filter needs of a match or an alert."""

    entry_id: str
    kind: str
    list: str
    band: str


_T = TypeVar("_T")


def batch_sink(batches: Batches, topic: str) -> AuditSink:
    """Audit records into the matcher's open batches (``topic``: the physical audit topic)."""

    def add(record: AuditRecord) -> asyncio.Future[Any]:
        return batches.add(topic, audit_key(record), encode(record), [AUDIT_HEADER])

    return add


class MatchSuppression:
    """Filters an event's matches; ``written`` hands over the futures of the audit records
    written since it was last asked."""

    def __init__(self, table: SuppressionTable, metrics: MatcherMetrics, sink: AuditSink) -> None:
        self.table = table
        self.metrics = metrics
        self.sink = sink
        self._pending: list[asyncio.Future[Any]] = []

    def keep(self, event: Event, matches: Sequence[Match]) -> list[Match]:
        """The matches that still alert (the live path)."""
        return self._keep(event, matches, lambda m: _Hit(m.entry_id, m.kind, m.list, m.band))

    def keep_alerts(self, event: Event, alerts: Sequence[Alert]) -> list[Alert]:
        """The alerts that still alert (retro-screening's model path)."""
        return self._keep(event, alerts, lambda a: _Hit(a.entry_id, a.kind, a.list, a.band))

    def _keep(self, event: Event, hits: Sequence[_T], hit_of: Callable[[_T], _Hit]) -> list[_T]:
        if not hits or not self.table.by_id:
            return list(hits)
        identity = TravellerIdentity.of(event.traveller, event.document)
        if identity is None:
            return list(hits)
        now = datetime.now(UTC)
        return [h for h in hits if not self._silenced(event, identity, now, hit_of(h))]

    def _silenced(
        self, event: Event, identity: TravellerIdentity, now: datetime, hit: _Hit
    ) -> bool:
        if hit.kind != AlertKind.PERSON:
            return False  # a document hit always alerts
        found = self.table.silencing(event.country, hit.entry_id, identity, now)
        if found is None:
            return False
        child(self.metrics.suppressed, str(hit.list)).inc()
        record = audit_record(
            AuditAction.MATCH_SUPPRESSED, ACTOR, alert_id_for(event.event_id, hit.entry_id),
            event_id=event.event_id, entry_id=hit.entry_id, country=event.country,
            list=str(hit.list), band=str(hit.band), suppression_id=found.suppression_id,
            confirmed_by=found.confirmed_by,
            expires_at=found.expires_at.isoformat() if found.expires_at else None,
        )  # fmt: skip
        self._pending.append(self.sink(record))
        log.info(
            "match.suppressed", event_id=event.event_id, entry_id=hit.entry_id,
            suppression_id=found.suppression_id,
        )  # fmt: skip
        return True

    def written(self) -> Sequence[asyncio.Future[Any]]:
        if not self._pending:  # the usual case: nothing allocated per event
            return ()
        pending, self._pending = self._pending, []
        return pending
