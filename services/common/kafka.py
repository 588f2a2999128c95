"""Kafka client factories: every producer, consumer and admin client is made here.

Callers open them under ``async with`` (or a lifespan) so they are always closed.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.producer.transaction_manager import NO_PRODUCER_EPOCH, NO_PRODUCER_ID, PidAndEpoch

from services.common.settings import CommonSettings, SecurityProtocol
from services.common.tasks import finish_within


class RelayConsumer(AIOKafkaConsumer):  # type: ignore[misc]
    """aiokafka's consumer, with a ``stop()`` that always ends.

    When ``stop()`` leaves the group, the fetcher's task wakes to cancel its sub-tasks and
    awaits them with ``CancelledError`` suppressed; the cancellation ``stop()`` sends it at that
    moment is swallowed, and the task then waits for an assignment forever, so ``stop()`` never
    returns (aio-libs/aiokafka#983; seen here as a test hung for 300 s). While ``stop()`` runs,
    the fetch task is cancelled again until it ends.
    """

    async def __aenter__(self) -> RelayConsumer:
        try:
            await self.start()
        except BaseException:  # cancelled or refused while starting: still closed, then raised
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        await finish_within(super().stop(), "kafka-consumer", nudge=self._cancel_fetch_again)

    def _cancel_fetch_again(self) -> None:
        fetch_task = getattr(getattr(self, "_fetcher", None), "_fetch_task", None)
        if isinstance(fetch_task, asyncio.Task) and not fetch_task.done():
            fetch_task.cancel()


def connection_options(settings: CommonSettings) -> dict[str, Any]:
    """bootstrap servers and security options shared by every client."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol.value,
    }
    if settings.kafka_security_protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        options["ssl_context"] = context
    if settings.kafka_security_protocol in (
        SecurityProtocol.SASL_PLAINTEXT,
        SecurityProtocol.SASL_SSL,
    ):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = (
            settings.kafka_sasl_password.get_secret_value()
            if settings.kafka_sasl_password
            else None
        )
    return options


# aiokafka keeps one fetch in flight per broker and leaves out of it the partitions whose
# records wait in its buffer; a record arriving on those waits until that fetch comes back,
# which can take up to fetch_max_wait_ms (500 by default) when the other partitions are quiet.
# Capping the wait bounds that stage of a record's latency; it costs one empty fetch per 10 ms
# when idle. For consumers on a latency path (the matcher's events, the notifier's alerts).
LOW_LATENCY_FETCH: dict[str, Any] = {"fetch_max_wait_ms": 10}


def make_producer(settings: CommonSettings, **overrides: Any) -> AIOKafkaProducer:
    """A durable producer: idempotent, acks=all, so an acknowledged write is stored."""
    options: dict[str, Any] = {
        "client_id": f"{settings.kafka_client_id}-producer",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 2,
        "max_batch_size": 262144,
        "request_timeout_ms": 15000,
        **connection_options(settings),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def renew_producer_id(producer: AIOKafkaProducer) -> bool:
    """After the broker refused a batch as out of sequence, take a new producer id.

    The broker can lose an idempotent producer's sequence state (a restart while batches were
    in flight); it then answers every later batch of the partition with
    OUT_OF_ORDER_SEQUENCE_NUMBER. The Java client takes a new producer id then (KIP-360);
    aiokafka 0.14 does not, and the partition stays refused for good. Its sender asks for an id
    again before its next request when it has none. False if an id is already being renewed.
    """
    manager = producer._txn_manager
    if manager is None or manager.transactional_id is not None or not manager.has_pid():
        return False
    manager._pid_and_epoch = PidAndEpoch(NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
    manager._pid_waiter = asyncio.get_running_loop().create_future()
    manager._sequence_numbers.clear()
    return True


def make_consumer(
    settings: CommonSettings, *topics: str, group_id: str | None, **overrides: Any
) -> RelayConsumer:
    """A consumer that commits only what the caller says it has finished."""
    options: dict[str, Any] = {
        "client_id": f"{settings.kafka_client_id}-consumer",
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        **connection_options(settings),
    }
    options.update(overrides)
    return RelayConsumer(*topics, **options)


def make_admin(settings: CommonSettings, **overrides: Any) -> AIOKafkaAdminClient:
    options: dict[str, Any] = {
        "client_id": f"{settings.kafka_client_id}-admin",
        "request_timeout_ms": 15000,
        **connection_options(settings),
    }
    options.update(overrides)
    return AIOKafkaAdminClient(**options)


@asynccontextmanager
async def admin_client(
    settings: CommonSettings, **overrides: Any
) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client, started and always closed (aiokafka's has no ``async with`` of its own)."""
    admin = make_admin(settings, **overrides)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def partitions_of(settings: CommonSettings, *topics: str) -> list[TopicPartition]:
    """Every partition of the given topics (for consumers that assign instead of joining);
    LookupError for a topic that does not exist. Asked of the admin client: a consumer keeps
    metadata only of the topics it subscribes to."""
    async with admin_client(settings) as admin:
        return described_partitions(await admin.describe_topics(list(topics)))


def described_partitions(described: list[dict[str, Any]]) -> list[TopicPartition]:
    """The partitions of ``describe_topics``' answer; LookupError for a topic it has not."""
    found: list[TopicPartition] = []
    for topic in described:
        if topic.get("error_code") or not topic["partitions"]:
            raise LookupError(f"topic {topic['topic']} does not exist ({topic.get('error_code')})")
        found.extend(TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"])
    return sorted(found)
