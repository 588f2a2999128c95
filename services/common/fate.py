"""One wrapper decides what happens to a message when its handler fails.

It is the only place in the code base that catches broad exceptions: an unexpected error in a
handler dead-letters the record (with the exception class as the reason) instead of crashing
the consumer or stalling its partition. Transient errors are retried with backoff up to a
limit, then dead-lettered too, so a poison record never blocks the records behind it.

Every dead letter written here is counted in ``relay_dead_letters_total{service,topic}`` (the
topic it was read from) once the broker stored it, so no consumer can leave one uncounted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError

from schemas.headers import (
    H_AT,
    H_ATTEMPTS,
    H_ERROR,
    H_FIELD,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_SERVICE,
    H_TIMESTAMP,
    H_TOPIC,
)
from services.common.errors import DropError, PermanentError, TransientError
from services.common.logging import get_logger
from services.common.metrics import Metrics, process_metrics

log = get_logger(__name__)

Headers = Sequence[tuple[str, bytes]]


class Fate(StrEnum):
    DONE = "done"
    DEAD_LETTERED = "dead_lettered"
    DROPPED = "dropped"


class RecordLike(Protocol):
    """What the wrapper needs of a consumed record (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Headers: ...


class Sender(Protocol):
    """The part of a producer the wrapper uses (AIOKafkaProducer fits)."""

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any
    ) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed step is tried, and how long apart; ``attempts=None``: until it
    succeeds (``forever``)."""

    attempts: int | None = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    @classmethod
    def forever(cls, base_delay_s: float = 0.2, max_delay_s: float = 5.0) -> RetryPolicy:
        return cls(None, base_delay_s, max_delay_s)

    def gives_up(self, attempt: int) -> bool:
        """Whether ``attempt`` failed attempts are all this policy allows."""
        return self.attempts is not None and attempt >= self.attempts

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter (the exponent capped: no float overflow)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** min(attempt, _MAX_EXPONENT))
        return random.uniform(0, ceiling)  # noqa: S311


_MAX_EXPONENT = 30
# Broker writes that must never be given up (alerts, offsets rewound, notifier states and
# audits): tried again for as long as it takes, at most 5 s apart.
STORE_RETRY = RetryPolicy.forever(base_delay_s=0.2, max_delay_s=5.0)

_T = TypeVar("_T")


async def until_stored(
    write: Callable[[], Awaitable[_T]], what: str, backoff: RetryPolicy = STORE_RETRY
) -> _T:
    """``write()`` again after each ``KafkaError``, backing off, until the broker stores it;
    only cancellation ends it. ``what`` names the write in the log."""
    failures = 0
    while True:
        try:
            return await write()
        except KafkaError as exc:
            failures += 1
            log.warning("write.retrying", what=what, error=type(exc).__name__, attempt=failures)
            await asyncio.sleep(backoff.delay(failures))


def dead_letter_headers(
    record: RecordLike, *, service: str, reason: str, field: str | None, error: str, attempts: int
) -> list[tuple[str, bytes]]:
    """The original headers, then why and where the record failed."""
    extra = {
        H_REASON: reason[:1000],
        H_FIELD: field or "",
        H_ERROR: error,
        H_SERVICE: service,
        H_AT: datetime.now(UTC).isoformat(),
        H_ATTEMPTS: str(attempts),
        H_TOPIC: record.topic,
        H_PARTITION: str(record.partition),
        H_OFFSET: str(record.offset),
        H_TIMESTAMP: str(record.timestamp),
    }
    kept = [(k, v) for k, v in (record.headers or ()) if k not in extra]
    return kept + [(k, v.encode()) for k, v in extra.items()]


@dataclass
class FateWrapper:
    """Runs a handler for one record and settles its fate; never raises for the record.

    ``metrics``: where its dead letters are counted; by default the process's standard series
    (ingest, the notifier). The matcher, which exports a registry of its own, passes its own.
    """

    service: str
    producer: Sender
    dead_letter_topic: str
    retry: RetryPolicy = RetryPolicy()
    metrics: Metrics | None = None
    _counted: Metrics = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._counted = self.metrics or process_metrics(self.service)
        if self._counted.service != self.service:
            raise ValueError(f"metrics of {self._counted.service!r} for {self.service!r}")

    async def run(self, record: RecordLike, handler: Callable[[], Awaitable[None]]) -> Fate:
        attempt = 0
        while True:
            try:
                await handler()
            except PermanentError as exc:
                return await self._dead_letter(record, exc.reason, exc.field, exc, attempt + 1)
            except DropError as exc:
                log.info("record.dropped", reason=exc.reason, **_where(record))
                return Fate.DROPPED
            except TransientError as exc:
                attempt += 1
                if self.retry.gives_up(attempt):
                    reason = f"gave up after {attempt} attempts: {exc.reason}"
                    return await self._dead_letter(record, reason, exc.field, exc, attempt)
                log.warning("record.retrying", reason=exc.reason, attempt=attempt, **_where(record))
                await asyncio.sleep(self.retry.delay(attempt))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the one place that settles unexpected errors
                reason = f"unexpected {type(exc).__name__}: {str(exc)[:300]}"
                log.exception("record.handler_failed", **_where(record))
                return await self._dead_letter(record, reason, None, exc, attempt + 1)
            else:
                return Fate.DONE

    async def _dead_letter(
        self, record: RecordLike, reason: str, field: str | None, exc: Exception, attempts: int
    ) -> Fate:
        headers = dead_letter_headers(
            record,
            service=self.service,
            reason=reason,
            field=field,
            error=type(exc).__name__,
            attempts=attempts,
        )
        await self.producer.send_and_wait(
            self.dead_letter_topic, record.value, key=record.key, headers=headers
        )
        self._counted.dead_lettered(record.topic)  # stored: a failed write is not one
        log.warning(
            "record.dead_lettered", reason=reason, field=field, dlq=self.dead_letter_topic,
            **_where(record),
        )  # fmt: skip
        return Fate.DEAD_LETTERED


def _where(record: RecordLike) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def header(record: RecordLike, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None
