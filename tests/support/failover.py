"""Two replicas of every service on one broker under steady traffic, and the evidence the
failover tests judge them by (issue 26).

``cluster`` starts 2 ingests (behind a round-robin front), 2 matchers and 2 notifiers as
``python -m`` processes, every contact point's webhook pointing at one ``WebhookReceiver``
(the standard directory: KAZ escalates primary -> backup -> coordination centre). ``Sender``
posts events through the front as an agency client does: a new connection per request, and
an event that got no 202 is resent with the same id. The rest reads what the receiver got:
first pages per (alert, recipient), webhook ids per (alert, recipient, notice), escalations.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from schemas.alert import Alert
from schemas.codec import decode_alert
from schemas.topics import load_catalogue
from services.cli.replicas import RoundRobin
from services.common.kafka import admin_client
from services.common.settings import CommonSettings
from services.ingest.domain.agencies import hash_key
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.domain.escalation import next_step
from services.notifier.settings import NotifierSettings
from services.tooling.kafka_local import LocalBroker
from services.tooling.topics import apply_catalogue
from tests.peers.webhook_receiver import Delivery, WebhookReceiver
from tests.support.accounts import accounts_beside, sign_in
from tests.support.broker import local_broker_settings
from tests.support.kafka_io import TopicReader
from tests.support.notifier_data import standard_directory
from tests.support.notifier_harness import LINK_SECRET, SESSION_SECRET, write_directory
from tests.support.replicas import Replica, assignment, replicas, until

AGENCY, AGENCY_KEY = "KAZ-BORDER", "failover-kaz-key-0123456789"
ESCALATION_DELAY_S = 4.0
CREATED, ESCALATED = "alert.created", "alert.escalated"
RESEND = {502, 503, 504}  # ingest (or the front) could not take it now: send it again
NOTIFIER_GROUP = str(NotifierSettings.model_fields["notifier_group_id"].default)
Make = Callable[[int], tuple[dict[str, Any], str]]  # n -> (event, the entry it must hit)


@dataclass
class Cluster:
    settings: CommonSettings
    ingests: list[Replica]
    matchers: list[Replica]
    notifiers: list[Replica]
    directory: Directory
    front: RoundRobin
    front_url: str

    @property
    def notifier_group(self) -> str:
        return self.settings.group(NOTIFIER_GROUP)


def _envs(settings: CommonSettings, receiver: WebhookReceiver, tmp: Path) -> dict[str, Any]:
    base = {
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_FORMAT": "json",
    }
    raw = standard_directory(receiver.url)
    directory = write_directory(tmp / "cp.yaml", raw)
    agencies = tmp / "agencies.yaml"
    agency = {"id": AGENCY, "countries": ["KAZ"], "key_sha256": [hash_key(AGENCY_KEY)]}
    agencies.write_bytes(orjson.dumps({"agencies": [agency]}))  # JSON is YAML
    notifier = {
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(directory),
        "RELAY_NOTIFIER_ACCOUNTS_PATH": str(accounts_beside(directory)),
        "RELAY_NOTIFIER_LINK_SECRET": LINK_SECRET,
        "RELAY_NOTIFIER_SESSION_SECRET": SESSION_SECRET,
        "RELAY_NOTIFIER_ESCALATION_DELAY_S": str(ESCALATION_DELAY_S),
        "RELAY_NOTIFIER_RETRY_BASE_S": "0.2",
        "RELAY_NOTIFIER_RETRY_MAX_S": "2",
        "RELAY_NOTIFIER_BREAKER_OPEN_S": "1",
        "RELAY_NOTIFIER_WEBHOOK_TIMEOUT_S": "2",
    }
    return {
        "raw": raw,
        "ingest": {**base, "RELAY_INGEST_AGENCIES_FILE": str(agencies),
                   "RELAY_INGEST_RAW_ENABLED": "false"},
        "matcher": base,
        "notifier": {**base, **notifier},
    }  # fmt: skip


@asynccontextmanager
async def cluster(
    settings: CommonSettings, receiver: WebhookReceiver, tmp: Path
) -> AsyncIterator[Cluster]:
    """Two of each service started and ready, the front serving; all stopped afterwards."""
    envs = _envs(settings, receiver, tmp)
    with ExitStack() as stack:
        group = {
            name: stack.enter_context(replicas(name, 2, envs[name], tmp))
            for name in ("ingest", "matcher", "notifier")
        }
        everyone = [r for members in group.values() for r in members]
        for replica in everyone:
            replica.process.start()
        await asyncio.gather(
            *(asyncio.to_thread(r.process.wait_http, r.url("/readyz"), 120) for r in everyone)
        )
        front = RoundRobin([("127.0.0.1", r.port) for r in group["ingest"]])
        server = await front.serve(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        directory = Directory.parse(envs["raw"], SPECS)
        try:
            yield Cluster(
                settings, group["ingest"], group["matcher"], group["notifier"], directory,
                front, url,
            )  # fmt: skip
        finally:
            await front.aclose()


@asynccontextmanager
async def own_broker(tmp: Path, prefix: str) -> AsyncIterator[tuple[LocalBroker, CommonSettings]]:
    """A broker of the test's own (never the session's), the catalogue applied."""
    broker = LocalBroker(local_broker_settings(tmp / "kafka"))
    await asyncio.to_thread(broker.start)
    try:
        settings = CommonSettings(kafka_bootstrap=broker.bootstrap, topic_prefix=prefix)
        async with admin_client(settings) as admin:
            await apply_catalogue(admin, load_catalogue(), settings.topic_prefix)
        yield broker, settings
    finally:
        await asyncio.to_thread(broker.stop)


@dataclass
class Sender:
    """Posts ``make(n)`` for n < count at a steady rate; keeps what ingest accepted (202)."""

    url: str
    make: Make
    accepted: dict[str, tuple[str, float]] = field(default_factory=dict)  # event -> entry, at
    resends: int = 0
    # Why each resend was needed (a status code or a transport error's name): the evidence a
    # failure shows.
    why: dict[str, int] = field(default_factory=dict)
    in_flight: int = 16
    give_up_s: float = 120.0

    async def run(self, count: int, rate_per_s: float) -> None:
        limit = asyncio.Semaphore(self.in_flight)
        async with (
            httpx.AsyncClient(
                base_url=self.url, timeout=5,
                limits=httpx.Limits(max_keepalive_connections=0),  # each request: a new turn
                headers={"Authorization": f"Bearer {AGENCY_KEY}"},
            ) as client,
            asyncio.TaskGroup() as tasks,
        ):  # fmt: skip
            for n in range(count):
                await limit.acquire()
                event, entry = self.make(n)
                tasks.create_task(self._deliver(client, event, entry, limit))
                await asyncio.sleep(1 / rate_per_s)  # pacing: the stream's rate, not a wait

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        event: dict[str, Any],
        entry: str,
        limit: asyncio.Semaphore,
    ) -> None:
        deadline = time.monotonic() + self.give_up_s
        try:
            while True:
                try:
                    response = await client.post("/v1/events", json=event)
                except httpx.TransportError as exc:
                    reason = type(exc).__name__  # a killed replica, or none reachable: resend
                else:
                    if response.status_code == 202:
                        self.accepted[event["event_id"]] = (entry, time.time())
                        return
                    assert response.status_code in RESEND, response.text
                    reason = f"{response.status_code} {response.json().get('title', '')}"
                self.resends += 1
                self.why[reason] = self.why.get(reason, 0) + 1
                assert time.monotonic() < deadline, f"ingest did not take an event: {self.why}"
                await asyncio.sleep(0.5)  # back off as an agency client must, then resend
        finally:
            limit.release()


def alert_of(delivery: Delivery) -> dict[str, Any]:
    found: dict[str, Any] = delivery.body["data"]["alert"]
    return found


def level_of(delivery: Delivery) -> int:
    return int(delivery.body["data"].get("escalation_level") or 0)


def notices(receiver: WebhookReceiver, kind: str) -> Iterator[tuple[str, Delivery]]:
    """(alert id, delivery) of every delivery of one type (CREATED, ESCALATED)."""
    for delivery in receiver.deliveries:
        if delivery.body.get("type") == kind:
            yield alert_of(delivery)["alert_id"], delivery


def first_pages(receiver: WebhookReceiver) -> dict[tuple[str, str], float]:
    """(alert id, endpoint) -> when its first page first arrived."""
    found: dict[tuple[str, str], float] = {}
    for alert_id, d in notices(receiver, CREATED):
        found.setdefault((alert_id, d.endpoint), d.received_at)
    return found


def escalations(receiver: WebhookReceiver) -> dict[str, list[tuple[int, str, float]]]:
    """alert id -> (level, endpoint, received at) of its escalation notices."""
    found: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    for alert_id, d in notices(receiver, ESCALATED):
        found[alert_id].append((level_of(d), d.endpoint, d.received_at))
    return found


def doubled(receiver: WebhookReceiver) -> dict[tuple[str, str, str, int], set[str]]:
    """(alert, recipient, notice type, level) that came with more than one webhook id."""
    ids: dict[tuple[str, str, str, int], set[str]] = defaultdict(set)
    for d in receiver.deliveries:
        key = (alert_of(d)["alert_id"], d.endpoint, str(d.body.get("type")), level_of(d))
        ids[key].add(d.webhook_id)
    return {key: found for key, found in ids.items() if len(found) > 1}


def chain(alert: Alert, directory: Directory) -> set[tuple[int, str]]:
    """Every (level, contact point) an unacknowledged alert escalates to."""
    found, level = set(), 0
    while (step := next_step(alert, directory, level)) is not None:
        level = step[0]
        found.add((level, step[1].id))
    return found


async def alerts_for(
    settings: CommonSettings, events: set[str], within_s: float
) -> dict[str, tuple[Alert, int]]:
    """alert id -> (alert, its partition on ``alerts``) for ``events``, once each has one."""
    found: dict[str, tuple[Alert, int]] = {}
    alerted: set[str] = set()
    read = 0

    def every_event(records: list[Any]) -> bool:
        nonlocal read
        for record in records[read:]:
            alert = decode_alert(record.value)
            if alert.event_id in events:
                found[alert.alert_id] = (alert, record.partition)
                alerted.add(alert.event_id)
        read = len(records)
        return events <= alerted

    async with TopicReader(settings, settings.topic("alerts")) as reader:
        await reader.until(every_event, within_s)
    return found


async def owners(
    settings: CommonSettings, group: str, topic: str, names: list[str]
) -> dict[int, str]:
    """Partition of ``topic`` -> the replica (by name) the group gave it to."""
    _, held = await assignment(settings, group)
    found: dict[int, str] = {}
    for client, partitions in held.items():
        name = next((n for n in names if client.startswith(f"{n}-")), client)
        found.update({tp.partition: name for tp in partitions if tp.topic == topic})
    return found


async def wait_owned(
    settings: CommonSettings, group: str, topic: str, names: list[str], count: int
) -> dict[int, str]:
    """Until each of ``count`` partitions has an owner and every replica in ``names`` holds one."""
    seen: dict[int, str] = {}

    async def shared() -> bool:
        nonlocal seen
        state, _ = await assignment(settings, group)
        seen = await owners(settings, group, topic, names)
        return state == "Stable" and len(seen) == count and set(seen.values()) == set(names)

    await until(shared, 90, f"{group} shares {topic} between {names} (saw {seen})")
    return seen


@dataclass(frozen=True)
class Answered:
    """An acknowledgement taken by one replica for an alert another replica owns."""

    alert_id: str
    owner: str
    via: str
    paged_at: float  # its first page reached the acknowledging contact point
    answered_at: float  # the replica answered 200 (the ack is stored)


async def fresh_page(
    receiver: WebhookReceiver, endpoint: str, wanted: Callable[[dict[str, Any]], bool], since: int
) -> Delivery:
    """The first page to ``endpoint`` of an alert ``wanted`` picks, among deliveries from
    index ``since`` on (waits for one)."""
    found: list[Delivery] = []
    seen = since

    def check() -> bool:
        nonlocal seen
        fresh, seen = receiver.deliveries[seen:], len(receiver.deliveries)
        found.extend(
            d for d in fresh
            if d.endpoint == endpoint and d.body.get("type") == CREATED and wanted(alert_of(d))
        )  # fmt: skip
        return bool(found)

    await receiver.wait_for(check, 30)
    return found[0]


async def until_known(post: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Answer as a duty officer would: the replica's view of the inbox (tailed from the
    deliveries topic) may lag the page by a moment, then it answers 403/404; try again."""
    deadline = time.monotonic() + ESCALATION_DELAY_S
    while True:
        response = await post()
        if response.status_code not in (403, 404) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)  # the read model catching up, bounded by the deadline


async def ack_in_console(replica: Replica, alert_id: str) -> httpx.Response:
    """KAZ-NCB's duty officer signs in to ``replica``'s console and acknowledges."""
    async with httpx.AsyncClient(base_url=replica.url(""), timeout=10) as client:
        signed = await sign_in(client, "KAZ-NCB")
        assert signed.status_code == 200, signed.text
        headers = {"X-CSRF-Token": signed.json()["csrf"]}
        url, body = f"/console/api/alerts/{alert_id}/ack", {"comment": "officers on the way"}
        return await until_known(lambda: client.post(url, json=body, headers=headers))


async def ack_in_api(replica: Replica, alert_id: str) -> httpx.Response:
    """KAZ-NCB's system acknowledges through ``replica``'s API (its API key)."""
    async with httpx.AsyncClient(base_url=replica.url(""), timeout=10) as client:
        headers = {"Authorization": "Bearer key-KAZ-NCB"}
        url = f"/v1/alerts/{alert_id}/ack"
        return await until_known(
            lambda: client.post(url, json={"comment": "seen"}, headers=headers)
        )
