"""``relay tail``: live records of one topic as printable dicts, personal data redacted."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas.topics import TopicName
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.common.topic_read import Record
from services.tooling.ops.reader import follow
from services.tooling.ops.redact import render_text, render_value


class TailRequest(BaseModel):
    topic: TopicName  # the prefix is added
    from_beginning: bool = False
    limit: int | None = Field(None, ge=1)
    show_pii: bool = False


def record_view(record: Record, *, show_pii: bool) -> dict[str, Any]:
    """One record as it is printed: where, when, key, headers and the (redacted) value."""
    key = record.key.decode(errors="replace") if record.key is not None else None
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        "key": render_text(key, show_pii=show_pii) if key is not None else None,
        "headers": {
            k: render_text(v.decode(errors="replace"), show_pii=show_pii)
            for k, v in record.headers or ()
        },
        "value": render_value(record.value, show_pii=show_pii),
    }


async def tail(
    settings: CommonSettings, request: TailRequest, emit: Callable[[dict[str, Any]], None],
    on_ready: Callable[[], None] | None = None,
) -> int:  # fmt: skip
    """Emit records until ``request.limit`` (or forever); returns how many were emitted."""
    count = 0
    async with make_consumer(settings, group_id=None) as consumer:
        tps = await partitions_of(settings, settings.topic(request.topic))
        stream = follow(consumer, tps, from_beginning=request.from_beginning, on_ready=on_ready)
        async with aclosing(stream):
            async for record in stream:
                emit(record_view(record, show_pii=request.show_pii))
                count += 1
                if request.limit is not None and count >= request.limit:
                    break
    return count
