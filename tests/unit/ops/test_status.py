"""Lag, rates and health rules of ``relay status`` (pure)."""

from __future__ import annotations

from services.tooling.ops.status import (
    Broker,
    ClusterSnapshot,
    GroupSnapshot,
    PartitionOffsets,
    Sample,
    Thresholds,
    TopicSnapshot,
    baseline,
    build_report,
    partition_lag,
)


def _snapshot(at: float, dlq_high: int = 0, members: int = 1) -> ClusterSnapshot:
    alerts = TopicSnapshot(
        name="p.alerts",
        retention_ms="1",
        partitions=[
            PartitionOffsets(partition=0, low=2, high=10),
            PartitionOffsets(partition=1, low=0, high=5),
        ],
    )
    dlq = TopicSnapshot(
        name="p.alerts.dlq", partitions=[PartitionOffsets(partition=0, low=0, high=dlq_high)]
    )
    group = GroupSnapshot(
        group="notifier",
        state="Stable",
        members=members,
        committed={"p.alerts": {0: 7}},
        subscribed=["p.alerts"],
    )
    return ClusterSnapshot(
        at=at,
        brokers=[Broker(node_id=1, host="h", port=1)],
        topics={"alerts": alerts, "alerts.dlq": dlq},
        groups=[group],
    )


def test_lag_counts_from_the_commit_or_the_low_watermark() -> None:
    offsets = PartitionOffsets(partition=0, low=3, high=10)
    assert partition_lag(7, offsets) == 3
    assert partition_lag(None, offsets) == 7
    assert partition_lag(1, offsets) == 7  # committed below what retention kept
    assert partition_lag(12, offsets) == 0


def test_report_lag_backlog_and_messages() -> None:
    report = build_report(_snapshot(100.0), [], Thresholds())
    [group] = report.groups
    assert group.lag == 3 + 5
    assert report.alert_backlog == 8
    assert {t.name: t.messages for t in report.topics} == {"alerts": 13, "alerts.dlq": 0}
    assert report.healthy
    assert report.rate_window_s is None


def test_unhealthy_on_lag_empty_group_and_dlq_growth() -> None:
    earlier = Sample(at=40.0, ends={"p.alerts.dlq": 1, "p.alerts": 5})
    report = build_report(_snapshot(100.0, dlq_high=4, members=0), [earlier], Thresholds(max_lag=7))
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == ["dlq_growth", "lag", "no_members"]
    rates = {t.name: t.rate_per_s for t in report.topics}
    assert rates == {"alerts": 10 / 60, "alerts.dlq": 3 / 60}
    relaxed = Thresholds(max_lag=8, fail_on_empty_group=False, fail_on_dlq_growth=False)
    assert build_report(_snapshot(100.0, dlq_high=4, members=0), [earlier], relaxed).healthy


def test_missing_catalogue_topic_is_a_problem() -> None:
    report = build_report(_snapshot(1.0), [], Thresholds(), expected=["alerts", "events.dlq"])
    assert [(p.kind, p.subject) for p in report.problems] == [("missing_topic", "events.dlq")]


def test_baseline_is_the_newest_sample_a_window_old_else_the_oldest() -> None:
    samples = [Sample(at=t, ends={}) for t in (10.0, 30.0, 80.0, 95.0)]
    assert baseline(samples, 100.0, 60.0).at == 30.0  # type: ignore[union-attr]
    assert baseline(samples[2:], 100.0, 60.0).at == 80.0  # type: ignore[union-attr]
    assert baseline([], 100.0, 60.0) is None
