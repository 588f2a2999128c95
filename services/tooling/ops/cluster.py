"""Reads what ``relay status`` needs from the cluster into a ``ClusterSnapshot``.

Offsets come from a group-less consumer (ListOffsets), committed offsets and members from the
admin client. Topic sizes in bytes would need DescribeLogDirs, which aiokafka does not offer:
``bytes`` stays ``None`` and the report says n/a rather than guessing.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata
from pydantic import BaseModel, Field

from schemas.topics import TopicName, load_catalogue
from services.common.kafka import admin_client, make_consumer
from services.common.settings import CommonSettings
from services.tooling.ops import samples as samples_file
from services.tooling.ops.status import (
    Broker,
    ClusterSnapshot,
    GroupSnapshot,
    PartitionOffsets,
    StatusReport,
    Thresholds,
    TopicSnapshot,
    build_report,
    to_sample,
)

# Groups are looked at a few at a time: a shared broker may know hundreds of them.
GROUP_CONCURRENCY = 8


async def collect(
    settings: CommonSettings, names: Sequence[TopicName], group_filter: str | None = None
) -> ClusterSnapshot:
    """Brokers, the catalogue topics (by catalogue name) and the groups that read them."""
    async with admin_client(settings) as admin:
        cluster = await admin.describe_cluster()
        physical = {settings.topic(n): n for n in names}
        existing = set(await admin.list_topics())
        present = {p: n for p, n in physical.items() if p in existing}
        topics = await _topics(settings, admin, present)
        groups = await _groups(admin, set(present), group_filter)
    brokers = [
        Broker(node_id=b["node_id"], host=b["host"], port=b["port"], rack=b.get("rack"))
        for b in cluster["brokers"]
    ]
    return ClusterSnapshot(
        at=time.time(),
        brokers=brokers,
        controller_id=cluster.get("controller_id"),
        topics=topics,
        groups=groups,
    )


async def _topics(
    settings: CommonSettings, admin: AIOKafkaAdminClient, present: Mapping[str, str]
) -> dict[str, TopicSnapshot]:
    if not present:
        return {}
    described = await admin.describe_topics(list(present))
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    retention = await _retention(admin, list(present))
    consumer = make_consumer(settings, group_id=None, isolation_level="read_uncommitted")
    async with consumer:
        low = await consumer.beginning_offsets(partitions)
        high = await consumer.end_offsets(partitions)
    result: dict[str, TopicSnapshot] = {}
    for physical, name in present.items():
        offsets = [
            PartitionOffsets(partition=tp.partition, low=low[tp], high=high[tp])
            for tp in sorted(partitions, key=lambda tp: tp.partition)
            if tp.topic == physical
        ]
        result[name] = TopicSnapshot(
            name=physical, partitions=offsets, retention_ms=retention.get(physical)
        )
    return result


async def _retention(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, str]:
    resources = [ConfigResource(ConfigResourceType.TOPIC, n, configs=None) for n in names]
    retention: dict[str, str] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            for entry in resource[4]:
                if entry[0] == "retention.ms":
                    retention[resource[3]] = entry[1]
    return retention


async def _groups(
    admin: AIOKafkaAdminClient, topics: set[str], group_filter: str | None
) -> list[GroupSnapshot]:
    listed = [g[0] for g in await admin.list_consumer_groups()]
    wanted = sorted(g for g in listed if group_filter is None or g == group_filter)
    limit = asyncio.Semaphore(GROUP_CONCURRENCY)

    async def one(group: str) -> GroupSnapshot | None:
        async with limit:
            return await _group(admin, group, topics)

    found = await asyncio.gather(*(one(g) for g in wanted))
    return [g for g in found if g is not None]


async def _group(admin: AIOKafkaAdminClient, group: str, topics: set[str]) -> GroupSnapshot | None:
    """The group if it has committed on, or subscribes to, one of ``topics``."""
    offsets = await admin.list_consumer_group_offsets(group)
    committed: dict[str, dict[int, int]] = {}
    for tp, meta in offsets.items():
        if tp.topic in topics and meta.offset >= 0:
            committed.setdefault(tp.topic, {})[tp.partition] = meta.offset
    [response] = await admin.describe_consumer_groups([group])
    described: dict[str, Any] = response.to_object()["groups"][0]
    members = described["members"]
    subscribed = sorted({t for m in members for t in _subscription(m) if t in topics})
    if not committed and not subscribed:
        return None
    return GroupSnapshot(
        group=group,
        state=described["state"],
        members=len(members),
        committed=committed,
        subscribed=subscribed,
    )


def _subscription(member: dict[str, Any]) -> list[str]:
    """Topics a member subscribes to; groups of other protocols say nothing we can read."""
    raw = member.get("member_metadata") or b""
    try:
        return list(ConsumerProtocolMemberMetadata.decode(raw).subscription)
    except (ValueError, IndexError, struct.error, UnicodeDecodeError):
        return []  # not the consumer protocol: no subscription we can read


class StatusRequest(BaseModel):
    thresholds: Thresholds = Thresholds()
    state_file: Path
    # With no earlier sample to compare with, take a second one this many seconds later.
    sample_seconds: float = Field(3.0, ge=0)
    group: str | None = None
    alert_group: str | None = None


async def status(settings: CommonSettings, request: StatusRequest) -> StatusReport:
    """Collect, compare with the samples kept in the state file, and keep this one."""
    names = load_catalogue().names()
    samples = samples_file.load(request.state_file)
    snapshot = await collect(settings, names, request.group)
    if not samples and request.sample_seconds > 0:
        samples = [to_sample(snapshot)]
        await asyncio.sleep(request.sample_seconds)  # the only way to a rate on a first run
        snapshot = await collect(settings, names, request.group)
    report = build_report(
        snapshot, samples, request.thresholds, expected=names, alert_group=request.alert_group
    )
    samples_file.save(request.state_file, samples, to_sample(snapshot))
    return report
