"""Applying the topic catalogue (``schemas.topics``) to a cluster, idempotently."""

from __future__ import annotations

import asyncio
import time
from enum import StrEnum

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from pydantic import BaseModel, Field

from schemas.topics import Catalogue, TopicSpec


class Change(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    PARTITIONS_ADDED = "partitions_added"
    CONFIG_UPDATED = "config_updated"
    DRIFT = "drift"  # differs in a way apply will not change (fewer partitions, replication)


class TopicReport(BaseModel):
    topic: str
    changes: list[Change]
    details: list[str] = Field(default_factory=list)


async def apply_catalogue(
    admin: AIOKafkaAdminClient, catalogue: Catalogue, prefix: str = ""
) -> list[TopicReport]:
    """Create or update every topic; safe to run any number of times."""
    existing = set(await admin.list_topics())
    reports: list[TopicReport] = []
    for spec in catalogue.topics:
        name = prefix + spec.name
        if name not in existing:
            reports.append(await _create(admin, spec, name))
        else:
            reports.append(await _reconcile(admin, spec, name))
    return reports


async def _create(admin: AIOKafkaAdminClient, spec: TopicSpec, name: str) -> TopicReport:
    topic = NewTopic(
        name=name,
        num_partitions=spec.partitions,
        replication_factor=spec.replication_factor,
        topic_configs=spec.config,
    )
    try:
        response = await admin.create_topics([topic])
    except TopicAlreadyExistsError:  # created concurrently by another applier
        return await _reconcile(admin, spec, name)
    # aiokafka reports per-topic errors in the response instead of raising them.
    for error in response.topic_errors:
        code = error[1]
        if code == TopicAlreadyExistsError.errno:
            return await _reconcile(admin, spec, name)
        if code:
            raise for_code(code)(f"creating topic {name}")
    await _wait_until_served(admin, name, spec.partitions)
    return TopicReport(topic=name, changes=[Change.CREATED])


async def _wait_until_served(
    admin: AIOKafkaAdminClient, name: str, partitions: int, timeout_s: float = 15.0
) -> None:
    """KRaft brokers learn of a new topic shortly after the controller created it; apply
    returns only once every partition has a leader, so the topic is usable at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        [described] = await admin.describe_topics([name])
        served = [p for p in described.get("partitions", []) if p.get("leader", -1) >= 0]
        if not described.get("error_code") and len(served) >= partitions:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"topic {name} not served with {partitions} partitions after {timeout_s}s")


async def _reconcile(admin: AIOKafkaAdminClient, spec: TopicSpec, name: str) -> TopicReport:
    report = TopicReport(topic=name, changes=[])
    [described] = await admin.describe_topics([name])
    partitions = described["partitions"]
    current = len(partitions)
    if current < spec.partitions:
        await admin.create_partitions({name: NewPartitions(total_count=spec.partitions)})
        report.changes.append(Change.PARTITIONS_ADDED)
        report.details.append(f"partitions {current} -> {spec.partitions}")
    elif current > spec.partitions:
        report.changes.append(Change.DRIFT)
        report.details.append(f"has {current} partitions, catalogue says {spec.partitions}")
    replication = len(partitions[0]["replicas"]) if partitions else 0
    if replication != spec.replication_factor:
        report.changes.append(Change.DRIFT)
        report.details.append(
            f"replication {replication}, catalogue says {spec.replication_factor}"
        )
    actual = await describe_topic_config(admin, name)
    differing = {k: v for k, v in spec.config.items() if actual.get(k) != v}
    if differing:
        resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=spec.config)
        await admin.alter_configs([resource])
        report.changes.append(Change.CONFIG_UPDATED)
        report.details.extend(f"{k}: {actual.get(k)} -> {v}" for k, v in differing.items())
    if not report.changes:
        report.changes.append(Change.UNCHANGED)
    return report


async def describe_topic_config(admin: AIOKafkaAdminClient, name: str) -> dict[str, str]:
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    values: dict[str, str] = {}
    for resource in response.resources:
        for entry in resource[4]:
            values[entry[0]] = entry[1]
    return values
