"""Several processes of one service on the real broker, and what their consumer group says.

Each replica gets its own Kafka client id (``RELAY_KAFKA_CLIENT_ID``), so the group's
description tells which process holds which partitions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka import TopicPartition
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from prometheus_client.parser import text_string_to_metric_families

from services.common.kafka import admin_client, make_consumer, partitions_of
from services.common.settings import CommonSettings
from tests.support.broker import free_port
from tests.support.process import ServiceProcess

Assignment = dict[str, set[TopicPartition]]  # client id -> partitions


@dataclass
class Replica:
    name: str  # also its Kafka client id prefix: "<name>-consumer"
    port: int
    process: ServiceProcess

    @property
    def client_id(self) -> str:
        return f"{self.name}-consumer"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def metric(self, name: str) -> float:
        """The sum of a counter's samples (every label set) on the replica's /metrics."""
        text = httpx.get(self.url("/metrics"), timeout=5).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        )


@contextmanager
def replicas(service: str, count: int, env: dict[str, str], logs: Path) -> Iterator[list[Replica]]:
    """``count`` processes of ``python -m services.<service>`` (not started), stopped after."""
    made = []
    for n in range(1, count + 1):
        name, port = f"{service}-{n}", free_port()
        own = {
            **env,
            f"RELAY_{service.upper()}_HTTP_PORT": str(port),
            "RELAY_KAFKA_CLIENT_ID": name,
        }
        made.append(
            Replica(name, port, ServiceProcess(f"services.{service}", own, logs / f"{name}.log"))
        )
    try:
        yield made
    finally:
        for replica in made:
            replica.process.stop()


async def assignment(settings: CommonSettings, group: str) -> tuple[str, Assignment]:
    """The group's state and each member's partitions, as the broker describes them."""
    async with admin_client(settings) as admin:
        [response] = await admin.describe_consumer_groups([group])
    described = response.to_object()["groups"][0]
    members: Assignment = {}
    for member in described["members"]:
        raw = member.get("member_assignment") or b""
        held = ConsumerProtocolMemberAssignment.decode(raw).partitions() if raw else []
        members.setdefault(member["client_id"], set()).update(held)
    return described["state"], members


async def until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    """Ask ``check`` (sync or async) every 200 ms until it is true; fail after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s}s")
        await asyncio.sleep(0.2)  # polling the broker's view, bounded by the deadline


async def wait_shared(
    settings: CommonSettings, group: str, clients: set[str], timeout_s: float = 90
) -> Assignment:
    """Until the group is stable with exactly ``clients``, each holding a partition."""
    seen: Assignment = {}

    async def shared() -> bool:
        nonlocal seen
        state, seen = await assignment(settings, group)
        return state == "Stable" and set(seen) == clients and all(seen.values())

    await until(shared, timeout_s, f"group {group} shared by {sorted(clients)} (saw {seen})")
    return seen


async def committed_to_end(settings: CommonSettings, group: str, *topics: str) -> bool:
    """Has ``group`` committed every partition of ``topics`` up to its current end?"""
    wanted = await partitions_of(settings, *topics)
    async with admin_client(settings) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    async with make_consumer(settings, group_id=None) as consumer:
        ends = await consumer.end_offsets(wanted)
    return all(
        ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in wanted
    )
