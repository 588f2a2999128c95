"""The raw Kafka intake: JSON events on ``ingest.raw`` become canonical events.

There is no API key on Kafka. A raw record names its agency in the ``relay-agency`` header,
checked against the same agencies file as HTTP keys (the agency must exist, may report for
the event's country, and must be the ``reported_by``). Who may write ``ingest.raw`` at all is
the broker's business (ACLs per agency principal); see services/ingest/README.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from services.common.errors import DropError
from services.common.fate import header
from services.ingest.agencies import AgenciesFile
from services.ingest.domain.intake import Rejection, accept
from services.ingest.errors import RawRecordRejected
from services.ingest.metrics import EVENTS
from services.ingest.publisher import H_AGENCY, Publisher


@dataclass
class RawIntake:
    agencies: AgenciesFile
    publisher: Publisher

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        """One raw record -> the produce future of its canonical event, or an exception."""
        agency_id = header(record, H_AGENCY)
        agency = self.agencies.current().by_id(agency_id)
        if agency is None:
            reason = "unknown agency" if agency_id else "no relay-agency header"
            raise RawRecordRejected(reason, field=f"headers.{H_AGENCY}")
        try:
            raw = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError as exc:
            raise RawRecordRejected(f"not JSON: {str(exc)[:200]}", field="(message)") from None
        result = accept(raw, agency, dt.datetime.now(dt.UTC))
        if isinstance(result, Rejection):
            EVENTS.labels("kafka", "dead_lettered").inc()
            raise RawRecordRejected(result.summary, field=result.field)
        if result.event.event_id in self.publisher.recent:
            EVENTS.labels("kafka", "duplicate").inc()
            raise DropError("event_id published recently")
        self.publisher.claim()  # send() releases it when the broker answers
        future = self.publisher.send(result, agency.id)
        EVENTS.labels("kafka", "accepted").inc()
        return [future]
