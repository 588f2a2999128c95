"""What ``relay status`` reports and when it calls the pipeline unhealthy. Pure: no I/O.

The Kafka-facing collector (``services.tooling.ops.cluster``) fills a ``ClusterSnapshot``;
``build_report`` turns it, the previous samples and the thresholds into a ``StatusReport``.
Rates come from end-offset samples: the newest earlier sample at least ``window_s`` old (or
the oldest one there is) is the baseline, so "over the last minute" is honest about its window.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

DLQ_SUFFIX = ".dlq"
ALERTS = "alerts"


class Broker(BaseModel):
    node_id: int
    host: str
    port: int
    rack: str | None = None


class PartitionOffsets(BaseModel):
    partition: int
    low: int
    high: int


class TopicSnapshot(BaseModel):
    name: str  # physical name (with the prefix)
    partitions: list[PartitionOffsets]
    retention_ms: str | None = None
    bytes: int | None = None  # None when the broker would not say (reported as n/a)


class GroupSnapshot(BaseModel):
    group: str
    state: str
    members: int
    committed: dict[str, dict[int, int]] = Field(default_factory=dict)  # topic -> partition -> off
    subscribed: list[str] = Field(default_factory=list)


class ClusterSnapshot(BaseModel):
    at: float  # epoch seconds
    brokers: list[Broker]
    controller_id: int | None = None
    topics: dict[str, TopicSnapshot]  # keyed by catalogue name
    groups: list[GroupSnapshot]


class Sample(BaseModel):
    """What is kept between runs: when, and the sum of end offsets per physical topic."""

    at: float
    ends: dict[str, int]


class Thresholds(BaseModel):
    max_lag: int = Field(1000, ge=0, description="Lag per group above which status fails")
    rate_window_s: float = Field(60.0, gt=0)
    fail_on_empty_group: bool = True
    fail_on_dlq_growth: bool = True


class PartitionLag(BaseModel):
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int


class GroupStatus(BaseModel):
    group: str
    state: str
    members: int
    lag: int
    partitions: list[PartitionLag]


class TopicStatus(BaseModel):
    name: str
    topic: str
    partitions: int
    messages: int
    end_offset: int
    bytes: int | None
    retention_ms: str | None
    rate_per_s: float | None
    dead_letter: bool


class Problem(BaseModel):
    kind: str  # lag, dlq_growth, no_members, missing_topic
    subject: str
    detail: str


class StatusReport(BaseModel):
    at: float
    brokers: list[Broker]
    controller_id: int | None
    topics: list[TopicStatus]
    groups: list[GroupStatus]
    dead_letters: dict[str, int]
    alert_backlog: int | None
    alert_groups: list[str]
    rate_window_s: float | None
    problems: list[Problem]

    @property
    def healthy(self) -> bool:
        return not self.problems


def partition_lag(committed: int | None, offsets: PartitionOffsets) -> int:
    """Records the group has yet to read; without a commit it starts at the low watermark."""
    start = offsets.low if committed is None or committed < 0 else max(committed, offsets.low)
    return max(0, offsets.high - start)


def group_status(group: GroupSnapshot, topics: dict[str, TopicSnapshot]) -> GroupStatus:
    by_physical = {t.name: t for t in topics.values()}
    rows: list[PartitionLag] = []
    names = sorted(set(group.committed) | set(group.subscribed))
    for name in names:
        topic = by_physical.get(name)
        if topic is None:
            continue
        for offsets in topic.partitions:
            committed = group.committed.get(name, {}).get(offsets.partition)
            lag = partition_lag(committed, offsets)
            rows.append(PartitionLag(topic=name, partition=offsets.partition,
                                     committed=committed, end=offsets.high, lag=lag))  # fmt: skip
    return GroupStatus(group=group.group, state=group.state, members=group.members,
                       lag=sum(r.lag for r in rows), partitions=rows)  # fmt: skip


def end_sum(topic: TopicSnapshot) -> int:
    return sum(p.high for p in topic.partitions)


def to_sample(snapshot: ClusterSnapshot) -> Sample:
    return Sample(at=snapshot.at, ends={t.name: end_sum(t) for t in snapshot.topics.values()})


def baseline(samples: list[Sample], now: float, window_s: float) -> Sample | None:
    """The newest sample at least ``window_s`` old, else the oldest earlier one."""
    earlier = sorted((s for s in samples if s.at < now), key=lambda s: s.at)
    if not earlier:
        return None
    old_enough = [s for s in earlier if now - s.at >= window_s]
    return old_enough[-1] if old_enough else earlier[0]


def rate(current: int, previous: Sample | None, topic: str, now: float) -> float | None:
    if previous is None or topic not in previous.ends or now <= previous.at:
        return None
    return max(0, current - previous.ends[topic]) / (now - previous.at)


def topic_status(name: str, topic: TopicSnapshot, base: Sample | None, now: float) -> TopicStatus:
    end = end_sum(topic)
    return TopicStatus(
        name=name,
        topic=topic.name,
        partitions=len(topic.partitions),
        messages=sum(p.high - p.low for p in topic.partitions),
        end_offset=end,
        bytes=topic.bytes,
        retention_ms=topic.retention_ms,
        rate_per_s=rate(end, base, topic.name, now),
        dead_letter=name.endswith(DLQ_SUFFIX),
    )


def find_problems(
    report: StatusReport, last: Sample | None, thresholds: Thresholds, missing: list[str]
) -> list[Problem]:
    problems = [
        Problem(kind="missing_topic", subject=m, detail="not on the broker") for m in missing
    ]
    for group in report.groups:
        if group.lag > thresholds.max_lag:
            detail = f"lag {group.lag} > {thresholds.max_lag}"
            problems.append(Problem(kind="lag", subject=group.group, detail=detail))
        if thresholds.fail_on_empty_group and group.members == 0:
            problems.append(Problem(kind="no_members", subject=group.group,
                                    detail=f"no members (state {group.state})"))  # fmt: skip
    if thresholds.fail_on_dlq_growth and last is not None:
        for topic in report.topics:
            before = last.ends.get(topic.topic)
            if topic.dead_letter and before is not None and topic.end_offset > before:
                detail = f"+{topic.end_offset - before} since the last sample"
                problems.append(Problem(kind="dlq_growth", subject=topic.topic, detail=detail))
    return problems


def build_report(
    snapshot: ClusterSnapshot, samples: list[Sample], thresholds: Thresholds,
    expected: Sequence[str] | None = None, alert_group: str | None = None,
) -> StatusReport:  # fmt: skip
    """The report for one snapshot; ``samples`` are earlier ones (any order)."""
    now = snapshot.at
    base = baseline(samples, now, thresholds.rate_window_s)
    topics = [topic_status(n, t, base, now) for n, t in snapshot.topics.items()]
    groups = [group_status(g, snapshot.topics) for g in snapshot.groups]
    alerts = snapshot.topics.get(ALERTS)
    readers = [g for g in groups if alerts and any(p.topic == alerts.name for p in g.partitions)]
    if alert_group is not None:
        readers = [g for g in readers if g.group == alert_group]
    backlog = None
    if readers and alerts:
        backlog = max(sum(p.lag for p in g.partitions if p.topic == alerts.name) for g in readers)
    report = StatusReport(
        at=now,
        brokers=snapshot.brokers,
        controller_id=snapshot.controller_id,
        topics=topics,
        groups=groups,
        dead_letters={t.topic: t.messages for t in topics if t.dead_letter},
        alert_backlog=backlog,
        alert_groups=[g.group for g in readers],
        rate_window_s=(now - base.at) if base else None,
        problems=[],
    )
    previous = max((s for s in samples if s.at < now), key=lambda s: s.at, default=None)
    missing = [n for n in (expected or []) if n not in snapshot.topics]
    report.problems = find_problems(report, previous, thresholds, missing)
    return report
