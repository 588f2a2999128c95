"""Kafka security: a second local broker with SASL_SSL (SCRAM-SHA-512) and deploy/acls.yaml.

Certificates, passwords and the broker are made here, on free ports; the session broker is not
touched. Shows: each service's principal reads and writes its own topics; it is refused on
topics and groups it does not own; a wrong password and a plaintext client are refused; the
matcher runs as its principal and turns a crossing by a listed person into an alert.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from schemas.topics import TopicName, load_catalogue
from services.common.kafka import admin_client, make_consumer, make_producer
from services.common.settings import CommonSettings, SecurityProtocol
from services.tooling.kafka_security import (
    BrokerSecurity,
    SecureLocalBroker,
    acl_bindings,
    generate_tls,
    load_access_policy,
)
from services.tooling.topics import apply_catalogue
from tests.support.broker import free_port, local_broker_settings
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.process import ServiceProcess

pytestmark = pytest.mark.timeout(300)

PRINCIPALS = ("ingest", "matcher", "notifier", "loader", "ops")
DEMO_KEY = "demo-kaz-border-key"  # published in deploy/ingest/agencies.example.yaml


@dataclass
class Secured:
    broker: SecureLocalBroker
    passwords: dict[str, SecretStr]
    prefix: str

    def as_user(self, user: str, password: SecretStr | None = None) -> CommonSettings:
        base = CommonSettings(topic_prefix=self.prefix, kafka_client_id=f"relay-{user}")
        return self.broker.client_settings(user, password or self.passwords[user], base)

    @property
    def admin(self) -> CommonSettings:
        security = self.broker.security
        return self.as_user(security.admin_user, security.admin_password)


@pytest_asyncio.fixture(scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secured]:
    base = tmp_path_factory.mktemp("kafka-sasl")
    tls = await asyncio.to_thread(generate_tls, base / "tls")
    broker = SecureLocalBroker(local_broker_settings(base / "kafka"), BrokerSecurity(tls=tls))
    await asyncio.to_thread(broker.start)
    try:
        passwords = {name: SecretStr(secrets.token_urlsafe(16)) for name in PRINCIPALS}
        # The broker is this module's alone: real topic and group names, no test prefix, so
        # the services' own group ids meet the policy exactly as in production.
        secured = Secured(broker, passwords, "")
        counts = await asyncio.to_thread(broker.apply_access, passwords, None, secured.prefix)
        assert counts == {"users": len(PRINCIPALS), "acls": len(acl_bindings(load_access_policy()))}
        async with admin_client(secured.admin) as admin:
            await apply_catalogue(admin, load_catalogue(), secured.prefix)
        yield secured
    finally:
        await asyncio.to_thread(broker.stop)


async def consume_until(settings: CommonSettings, topic: str, group: str, value: bytes) -> None:
    """Read as a group member until ``value`` arrives, and commit (the group needs a grant too)."""
    consumer = make_consumer(settings, topic, group_id=settings.topic_prefix + group)
    try:
        await consumer.start()
        async with asyncio.timeout(30):
            while (await consumer.getone()).value != value:
                pass
        await consumer.commit()
    finally:
        await consumer.stop()


# (principal, topic it reads + group, topic it writes)
OWN = [
    ("ingest", "ingest.raw", "relay-ingest-raw", "events.border_crossing"),
    ("matcher", "events.document_check", "matcher-check", "alerts"),
    ("matcher", "watchlist.entries", "matcher-retro", "watchlist.entries.dlq"),
    ("notifier", "alerts", "notifier-check", "notifications.deliveries"),
    ("notifier", "notifications.acks", "notifier-acks", "alerts.dlq"),
]


@pytest.mark.parametrize(("user", "reads", "group", "writes"), OWN)
async def test_principal_reads_and_writes_its_own_topics(
    secured: Secured, user: str, reads: TopicName, group: str, writes: TopicName
) -> None:
    me = secured.as_user(user)
    marker = uuid.uuid4().hex.encode()
    await produce_json(secured.admin, me.topic(reads), [("k", marker)])
    await consume_until(me, me.topic(reads), group, marker)

    await produce_json(me, me.topic(writes), [("k", marker)])
    async with TopicReader(secured.admin, me.topic(writes)) as reader:
        await reader.until(lambda rs: any(r.value == marker for r in rs), 30)


# (principal, topic it must not read, topic it must not write, how the write is refused)
FORBIDDEN: list[tuple[str, str | None, str, type[KafkaError]]] = [
    ("ingest", "alerts", "alerts", TopicAuthorizationFailedError),
    ("ingest", "watchlist.entries", "watchlist.entries", TopicAuthorizationFailedError),
    ("matcher", "notifications.acks", "watchlist.entries", TopicAuthorizationFailedError),
    ("notifier", "events.border_crossing", "events.border_crossing", TopicAuthorizationFailedError),
    ("loader", "watchlist.entries", "alerts", TopicAuthorizationFailedError),
    # ops reads everything (shown below) but writes nothing: with no WRITE anywhere it may not
    # even open an idempotent producer (InitProducerId needs a write grant).
    ("ops", None, "alerts", ClusterAuthorizationFailedError),
]


@pytest.mark.parametrize(("user", "unread", "unwritten", "refusal"), FORBIDDEN)
async def test_principal_is_refused_on_topics_it_does_not_own(
    secured: Secured,
    user: str,
    unread: TopicName | None,
    unwritten: TopicName,
    refusal: type[KafkaError],
) -> None:
    me = secured.as_user(user)
    if unread is not None:
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(_read_one(me, me.topic(unread)), 30)
    with pytest.raises(refusal):
        await asyncio.wait_for(_write_one(me, me.topic(unwritten)), 30)


async def _write_one(settings: CommonSettings, topic: str) -> None:
    producer = make_producer(settings, request_timeout_ms=5000)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"x", key=b"k")
    finally:
        await producer.stop()


async def _read_one(settings: CommonSettings, topic: str) -> None:
    """Refused at start (no DESCRIBE either) or at the first fetch (DESCRIBE via WRITE)."""
    consumer = make_consumer(settings, topic, group_id=None)
    try:
        await consumer.start()
        await consumer.getone()
    finally:
        await consumer.stop()


async def test_ops_reads_everything_and_a_foreign_group_is_refused(secured: Secured) -> None:
    marker = uuid.uuid4().hex.encode()
    await produce_json(secured.admin, secured.admin.topic("ingest.raw"), [("k", marker)])
    ops = secured.as_user("ops")
    async with TopicReader(ops, ops.topic("ingest.raw")) as reader:
        await reader.until(lambda rs: any(r.value == marker for r in rs), 30)
    # ingest may read ingest.raw, but not as a member of the matcher's group.
    ingest = secured.as_user("ingest")
    with pytest.raises(GroupAuthorizationFailedError):
        await consume_until(ingest, ingest.topic("ingest.raw"), "matcher", marker)


async def test_wrong_password_and_plaintext_are_refused(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    # aiokafka reports a refused handshake as "unable to bootstrap" and logs the reason.
    caplog.set_level(logging.ERROR, logger="aiokafka")
    wrong = secured.as_user("ingest", SecretStr("not-the-password"))
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(_write_one(wrong, wrong.topic("events.border_crossing")), 30)
    reasons = [r.getMessage() for r in caplog.records]
    assert any("SaslAuthenticationFailed" in r and "invalid credentials" in r for r in reasons)

    caplog.clear()
    plaintext = secured.as_user("ingest").model_copy(
        update={"kafka_security_protocol": SecurityProtocol.PLAINTEXT}
    )
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(_write_one(plaintext, plaintext.topic("events.border_crossing")), 30)
    # The TLS listener drops a client that does not speak TLS.
    assert any("closed" in r.getMessage() for r in caplog.records)


def red_notice(entry_id: str) -> dict[str, Any]:
    return {
        "entry_id": entry_id, "list": "red_notice", "status": "active", "issuer": "UZB",
        "action": "arrest",
        "person": {"names": [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
                   "date_of_birth": "1985-03-02", "sex": "M", "nationalities": ["UZB"]},
    }  # fmt: skip


def crossing() -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()), "type": "border_crossing",
        "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reported_by": "KAZ-BORDER", "country": "KAZ",
        "location": {"code": "KZ-ALA-AIR", "name": "Almaty International Airport", "kind": "air"},
        "direction": "entry",
        "traveller": {"surname": "XOLMATOV", "given_names": "ALISHER",
                      "date_of_birth": "1985-03-02", "sex": "M", "nationality": "UZB"},
        "document": {"number": "ZZ1111111", "issuing_state": "UZB", "type": "P",
                     "expiry_date": "2031-05-01"},
    }  # fmt: skip


def service(secured: Secured, module: str, log: Path, **extra: str) -> tuple[ServiceProcess, int]:
    """``python -m services.<module>`` logged in as the principal of the same name."""
    port = free_port()
    name = module.removeprefix("services.")
    env = {
        **secured.broker.client_environment(name, secured.passwords[name]),
        "RELAY_TOPIC_PREFIX": secured.prefix,
        f"RELAY_{name.upper()}_HTTP_PORT": str(port),
        "RELAY_LOG_FORMAT": "json",
        **extra,
    }
    return ServiceProcess(module, env, log), port


@pytest.fixture
def services(secured: Secured, tmp_path: Path) -> Iterator[dict[str, tuple[ServiceProcess, int]]]:
    started = {
        "matcher": service(secured, "services.matcher", tmp_path / "matcher.log"),
        "ingest": service(secured, "services.ingest", tmp_path / "ingest.log"),
    }
    yield started
    for process, _ in started.values():
        process.stop()


async def test_pipeline_runs_with_each_service_as_its_own_principal(
    secured: Secured, services: dict[str, tuple[ServiceProcess, int]]
) -> None:
    """loader -> watchlist.entries; agency -> ingest (HTTP) -> events -> matcher -> alerts."""
    loader, notifier = secured.as_user("loader"), secured.as_user("notifier")
    entry_id = f"RED-SEC-{uuid.uuid4().hex[:6]}"
    await produce_json(
        loader, loader.topic("watchlist.entries"), [(entry_id, red_notice(entry_id))]
    )
    for process, _ in services.values():
        process.start()
    for process, port in services.values():
        await asyncio.to_thread(process.wait_http, f"http://127.0.0.1:{port}/readyz", 120)

    event = crossing()
    _, ingest_port = services["ingest"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest_port}") as client:
        response = await client.post("/v1/events", json=event, headers={"X-API-Key": DEMO_KEY})
    assert response.status_code == 202, response.text  # stored by the ingest principal
    group = notifier.topic_prefix + "notifier-pipeline"
    consumer = make_consumer(notifier, notifier.topic("alerts"), group_id=group)
    await consumer.start()
    try:
        alert = await asyncio.wait_for(_alert_for(consumer, event["event_id"]), 90)
    finally:
        await consumer.stop()
    assert alert["entry_id"] == entry_id
    for process, _ in services.values():
        assert "AuthorizationFailed" not in process.log(1000), process.module


async def _alert_for(consumer: Any, event_id: str) -> dict[str, Any]:
    async for record in consumer:
        if not record.value.startswith(b"{"):
            continue  # a raw marker written by the access tests above
        alert: dict[str, Any] = orjson.loads(record.value)
        if alert["event_id"] == event_id:
            return alert
    raise AssertionError("consumer stopped")
