"""The raw Kafka intake: JSON events on ``ingest.raw`` become canonical events.

There is no API key on Kafka, and Kafka does not tell a consumer who produced a record. A raw
record names its agency in the ``relay-agency`` header and proves it with that agency's
signature (``relay-signature``, ``schemas.intake``; checked in ``domain.binding``). Then the
agency must exist in the agencies file, may report for the event's country and must be the
``reported_by``, as over HTTP. A record that fails any of it is dead-lettered with the reason
and the header or field at fault. Who may write ``ingest.raw`` at all is the broker's
business (ACLs); see services/ingest/README.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from schemas.headers import H_AGENCY, H_REPLAYED_FROM, H_SIGNATURE, H_SIGNATURE_TIMESTAMP
from schemas.outcomes import IngestOutcome
from services.common.errors import DropError
from services.common.fate import header
from services.ingest.agencies_file import AgenciesFile
from services.ingest.domain.agencies import Agency
from services.ingest.domain.binding import RawClaim, Unbound, Window, bind
from services.ingest.domain.intake import Rejection, accept
from services.ingest.errors import RawRecordRejected
from services.ingest.metrics import EVENTS
from services.ingest.publisher import Publisher
from services.ingest.settings import IngestSettings


def signature_window(settings: IngestSettings) -> Window:
    return Window(settings.ingest_raw_signature_tolerance_s, settings.ingest_raw_replay_window_s)


def claim_of(record: ConsumerRecord[bytes, bytes]) -> RawClaim:
    # A record without a timestamp (older formats: -1) is judged by when it is read.
    written = record.timestamp / 1000 if record.timestamp >= 0 else time.time()
    return RawClaim(
        agency=header(record, H_AGENCY),
        signature=header(record, H_SIGNATURE),
        timestamp=header(record, H_SIGNATURE_TIMESTAMP),
        key=record.key,
        value=record.value or b"",
        written_at_s=written,
        replayed=header(record, H_REPLAYED_FROM) is not None,
    )


@dataclass
class RawIntake:
    agencies: AgenciesFile
    publisher: Publisher
    window: Window

    def _agency(self, record: ConsumerRecord[bytes, bytes]) -> Agency:
        bound = bind(claim_of(record), self.agencies.current(), self.window)
        if isinstance(bound, Unbound):
            # Not counted here, like the other refusals before validation (item 8's business).
            raise RawRecordRejected(bound.reason, field=f"headers.{bound.header}")
        return bound

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        """One raw record -> the produce future of its canonical event, or an exception."""
        agency = self._agency(record)
        try:
            raw = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError as exc:
            raise RawRecordRejected(f"not JSON: {str(exc)[:200]}", field="(message)") from None
        result = accept(raw, agency, dt.datetime.now(dt.UTC))
        if isinstance(result, Rejection):
            EVENTS.labels("kafka", "dead_lettered").inc()
            raise RawRecordRejected(result.summary, field=result.field)
        if result.event.event_id in self.publisher.recent:
            EVENTS.labels("kafka", IngestOutcome.DUPLICATE).inc()
            raise DropError("event_id published recently")
        self.publisher.claim()  # send() releases it when the broker answers
        future = self.publisher.send(result, agency.id)
        EVENTS.labels("kafka", IngestOutcome.ACCEPTED).inc()
        return [future]
