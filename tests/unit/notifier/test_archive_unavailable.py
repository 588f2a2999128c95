"""Evicted alerts that must be read back while the broker is away: the archive says the failure
is transient. A cancelled entry's record is handled again by the fate wrapper instead of being
dead-lettered at once; an answer over HTTP gets 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from schemas.codec import encode
from schemas.notification import Cancellation, Channel, Notification
from services.common.fate import Fate, FateWrapper, RetryPolicy
from services.common.health import Readiness
from services.common.metrics import Metrics
from services.common.settings import CommonSettings
from services.notifier.accounts_file import AccountsFile
from services.notifier.api import Access, create_api
from services.notifier.channels.registry import SPECS
from services.notifier.console.gate import ConsoleAccess
from services.notifier.console.session import SessionKeys
from services.notifier.domain.directory import Directory
from services.notifier.engine import Engine, EngineConfig
from services.notifier.errors import ArchiveUnavailable
from services.notifier.handlers import CancelHandler
from services.notifier.revocations import Revocations
from services.notifier.store import KafkaArchive
from tests.support.broker import free_port
from tests.support.notifier_data import standard_directory
from tests.support.notifier_fakes import Idle, Lane

DIRECTORY = Directory.parse(standard_directory(lambda n: f"http://h.example/{n}"), SPECS)
QUICK = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)
ENTRY = "RED-ARCHIVED-1"


def nowhere() -> CommonSettings:
    """Settings whose broker address answers nothing (a closed port)."""
    return CommonSettings(kafka_bootstrap=f"127.0.0.1:{free_port()}")


class BackAfter:
    """The real archive on an absent broker for the first ``failures`` reads, then an empty one."""

    def __init__(self, failures: int) -> None:
        self.archive = KafkaArchive(nowhere())
        self.failures = failures
        self.reads = 0

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]:
        self.reads += 1
        if self.reads <= self.failures:
            return await self.archive.recall(needle, match)
        return []

    async def expired(self, cutoff: datetime, is_open: Callable[[str], bool]) -> list[Notification]:
        return []


class Producer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any
    ) -> None:
        self.sent.append({"topic": topic, **kwargs})


def cancellation() -> ConsumerRecord[bytes, bytes]:
    """The entry's cancellation, as the replica that read its tombstone wrote it."""
    value = encode(Cancellation(entry_id=ENTRY, at=datetime.now(UTC), reason="entry removed"))
    return ConsumerRecord(
        topic="p.notifications.cancellations", partition=0, offset=3, timestamp=0,
        timestamp_type=0, key=ENTRY.encode(), value=value, checksum=None,
        serialized_key_size=len(ENTRY), serialized_value_size=len(value), headers=(),
    )  # fmt: skip


def engine_with(archive: BackAfter) -> Engine:
    channels: dict[Channel, Any] = {c: Lane() for c in Channel}
    engine = Engine(EngineConfig(), None, lambda: DIRECTORY, channels, Idle())  # type: ignore[arg-type]
    engine.archive = archive
    engine.archived_entries.add(ENTRY)  # its alerts were evicted: the archive must be read
    return engine


async def handle(engine: Engine, producer: Producer) -> Fate:
    fate = FateWrapper("notifier", producer, "p.watchlist.entries.dlq", QUICK, Metrics("notifier"))
    record = cancellation()

    async def call() -> None:
        await CancelHandler(engine)(record)

    return await fate.run(record, call)


async def test_the_archive_on_an_absent_broker_raises_a_transient_error() -> None:
    archive = KafkaArchive(nowhere())
    with pytest.raises(ArchiveUnavailable, match=r"^deliveries unreadable: KafkaConnectionError$"):
        await archive.recall(ENTRY, lambda n: True)


async def test_a_cancellation_is_handled_again_once_the_archive_answers() -> None:
    archive, producer = BackAfter(failures=2), Producer()
    engine = engine_with(archive)
    assert await handle(engine, producer) is Fate.DONE
    assert archive.reads == 3
    assert producer.sent == []  # nothing dead-lettered
    assert ENTRY not in engine.archived_entries  # its evicted alerts were read back


async def test_a_cancellation_is_dead_lettered_when_the_archive_stays_away() -> None:
    archive, producer = BackAfter(failures=10), Producer()
    engine = engine_with(archive)
    assert await handle(engine, producer) is Fate.DEAD_LETTERED
    assert archive.reads == QUICK.attempts
    [letter] = producer.sent
    headers = dict(letter["headers"])
    assert headers["relay-dlq-error"] == b"ArchiveUnavailable"
    assert headers["relay-dlq-reason"].startswith(b"gave up after 3 attempts: deliveries")
    assert ENTRY in engine.archived_entries  # still to be read back by a later cancellation


async def test_an_answer_to_an_evicted_alert_gets_503_while_the_archive_is_away() -> None:
    engine = engine_with(BackAfter(failures=1))
    revocations = Revocations(CommonSettings(), None)
    console = ConsoleAccess(SessionKeys(b"s" * 32), revocations, AccountsFile(None))
    access = Access(CommonSettings(), revocations, console)
    transport = httpx.ASGITransport(app=create_api(engine, Readiness(), access))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        answer = await client.post(
            "/v1/alerts/evicted-alert/ack", headers={"Authorization": "Bearer key-KAZ-NCB"}
        )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
