"""Thin handlers: decode the record, hand it to the engine, return the writes to wait for."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from schemas.alert import Alert
from schemas.codec import SchemaVersionError, check_schema_header, decode
from schemas.notification import Acknowledgement, Cancellation
from schemas.watchlist import WatchlistEntry
from services.common.consume import Handler
from services.common.errors import PermanentError
from services.common.metrics import child
from services.notifier.engine import Engine
from services.notifier.followup import acknowledge, cancel_entry
from services.notifier.metrics import SERVICE, STANDARD

Writes = Sequence[Awaitable[Any]]
M = TypeVar("M", Acknowledgement, Cancellation)


class AlertHandler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        child(STANDARD.events_in, SERVICE, record.topic).inc()  # bad records too, as the matcher
        if record.value is None:
            raise PermanentError("empty alert record")
        try:
            check_schema_header(record.headers, Alert)
            alert = decode(Alert, record.value)
        except (ValidationError, SchemaVersionError) as exc:
            raise PermanentError(f"invalid alert: {str(exc)[:500]}") from exc
        writes = await self.engine.on_alert(alert)
        self.engine.outcomes.arm(alert.alert_id)  # its outcome is due by a deadline
        return writes


class EntryHandler:
    """A cancelled entry, or a tombstone, cancels the alerts sent about it: read by one replica
    (its own group), applied by the replica that owns the entry's alerts (``CancelHandler``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Writes:
        if record.value is None:
            if record.key is None:
                return []
            return self._cancel(record.key.decode(), "entry removed")
        try:
            entry = decode(WatchlistEntry, record.value)
        except ValidationError:
            return []  # the matcher dead-letters broken entries; nothing to cancel here
        if entry.is_active:
            return []
        return self._cancel(entry.entry_id, "entry cancelled")

    def _cancel(self, entry_id: str, reason: str) -> Writes:
        try:
            cancelled = Cancellation(entry_id=entry_id, at=datetime.now(UTC), reason=reason)
        except ValidationError as exc:
            raise PermanentError("invalid entry id", field="entry_id") from exc
        return [self.engine.writer.cancellation(cancelled)]


class CancelHandler:
    """``notifications.cancellations`` at the owner: stop the entry's pages, tell those paged."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Writes:
        cancelled = _decode(record, Cancellation, "cancellation")
        return await cancel_entry(self.engine, cancelled.entry_id)


class AckHandler:
    """``notifications.acks`` at the owner: an answer taken by any replica."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Writes:
        ack = _decode(record, Acknowledgement, "acknowledgement")
        return await acknowledge(self.engine, ack)


def by_topic(handlers: dict[str, Handler]) -> Handler:
    """One consumer reads the owned partitions of several topics: each record to its handler."""

    async def handle(record: ConsumerRecord[bytes, bytes]) -> Writes:
        return await handlers[record.topic](record)

    return handle


def _decode(record: ConsumerRecord[bytes, bytes], model: type[M], what: str) -> M:
    if record.value is None:
        raise PermanentError(f"empty {what} record")
    try:
        check_schema_header(record.headers, model)
        return decode(model, record.value)
    except (ValidationError, SchemaVersionError) as exc:
        raise PermanentError(f"invalid {what}: {str(exc)[:500]}") from exc
