"""Thin handlers: decode the record, hand it to the engine, return the writes to wait for."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from schemas.alert import Alert
from schemas.codec import SchemaVersionError, check_schema_header, decode
from schemas.watchlist import WatchlistEntry
from services.common.errors import PermanentError
from services.common.metrics import child
from services.notifier.engine import Engine
from services.notifier.followup import cancel_entry
from services.notifier.metrics import SERVICE, STANDARD


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
    """A cancelled entry, or a tombstone, cancels the alerts sent about it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> Sequence[Awaitable[Any]]:
        if record.value is None:
            if record.key is None:
                return []
            return await cancel_entry(self.engine, record.key.decode())
        try:
            entry = decode(WatchlistEntry, record.value)
        except ValidationError:
            return []  # the matcher dead-letters broken entries; nothing to cancel here
        if entry.is_active:
            return []
        return await cancel_entry(self.engine, entry.entry_id)
