"""Dead letters as operators see them, and the headers a replayed record carries. Pure.

A dead-letter record carries its reason and origin in headers (``services.common.fate``).
Replaying sends the value back to ``relay-original-topic`` with the record's own headers, minus
everything dead-lettering added (``relay-dlq-*``, ``relay-original-*``), plus where it was
replayed from, when, and how many times it has been replayed (an earlier replay that failed
again comes back with its count, which goes up by one).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.headers import (
    H_AT,
    H_ATTEMPTS,
    H_ERROR,
    H_FIELD,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_REPLAY_COUNT,
    H_REPLAYED_AT,
    H_REPLAYED_FROM,
    H_SERVICE,
    H_TIMESTAMP,
    H_TOPIC,
)
from services.common.fate import RecordLike, header

# Everything dead-lettering and earlier replays added; none of it travels with a replay.
ADDED_HEADERS = frozenset(
    {H_REASON, H_FIELD, H_ERROR, H_SERVICE, H_AT, H_ATTEMPTS, H_TOPIC, H_PARTITION, H_OFFSET,
     H_TIMESTAMP, H_REPLAYED_FROM, H_REPLAYED_AT, H_REPLAY_COUNT}
)  # fmt: skip


class DeadLetter(BaseModel):
    """One record of a dead-letter topic, its headers read."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    reason: str | None
    field: str | None
    error: str | None
    service: str | None
    dead_lettered_at: str | None
    attempts: int | None
    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    replay_count: int


class OffsetFilter(BaseModel):
    """Which records of a dead-letter topic to look at (inclusive bounds)."""

    partition: int | None = None
    from_offset: int | None = Field(None, ge=0)
    to_offset: int | None = Field(None, ge=0)

    def accepts(self, partition: int, offset: int) -> bool:
        return (
            (self.partition is None or partition == self.partition)
            and (self.from_offset is None or offset >= self.from_offset)
            and (self.to_offset is None or offset <= self.to_offset)
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse(record: RecordLike) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp,
        reason=header(record, H_REASON),
        field=header(record, H_FIELD) or None,
        error=header(record, H_ERROR),
        service=header(record, H_SERVICE),
        dead_lettered_at=header(record, H_AT),
        attempts=_int(header(record, H_ATTEMPTS)),
        original_topic=header(record, H_TOPIC) or None,
        original_partition=_int(header(record, H_PARTITION)),
        original_offset=_int(header(record, H_OFFSET)),
        replay_count=_int(header(record, H_REPLAY_COUNT)) or 0,
    )


def replay_headers(record: RecordLike, now: datetime) -> list[tuple[str, bytes]]:
    """The headers of the replayed record (see the module docstring)."""
    count = (_int(header(record, H_REPLAY_COUNT)) or 0) + 1
    kept = [(k, v) for k, v in (record.headers or ()) if k not in ADDED_HEADERS]
    added = {
        H_REPLAYED_FROM: f"{record.topic}:{record.partition}:{record.offset}",
        H_REPLAYED_AT: now.isoformat(),
        H_REPLAY_COUNT: str(count),
    }
    return kept + [(k, v.encode()) for k, v in added.items()]


class ReplayItem(BaseModel):
    """What replay did (or, dry, would do) with one dead letter."""

    dead_letter: DeadLetter
    target: str | None
    skipped: str | None = None  # why it was not replayed


class ReplayResult(BaseModel):
    dlq_topic: str
    group: str
    dry_run: bool
    items: list[ReplayItem]
    committed: dict[int, int] = Field(default_factory=dict)  # partition -> next offset

    @property
    def replayed(self) -> int:
        return sum(1 for i in self.items if i.skipped is None)


def plan_item(record: RecordLike, allowed_targets: set[str] | None) -> ReplayItem:
    """Where one dead letter goes back to, or why it cannot."""
    letter = parse(record)
    target = letter.original_topic
    if target is None:
        return ReplayItem(dead_letter=letter, target=None, skipped=f"no {H_TOPIC} header")
    if allowed_targets is not None and target not in allowed_targets:
        return ReplayItem(dead_letter=letter, target=target, skipped="topic does not exist")
    return ReplayItem(dead_letter=letter, target=target)
