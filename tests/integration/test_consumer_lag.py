"""Each service reports its group's lag as relay_consumer_lag; the computation, on the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from prometheus_client import REGISTRY

from services.common.kafka import make_consumer
from services.common.lag import group_lag, process_lag_sink, report_lag
from services.common.settings import CommonSettings
from services.common.tasks import cancel_and_wait
from tests.support.kafka_io import produce_json


async def test_group_lag_counts_what_the_group_has_not_committed(
    topics: CommonSettings, unique: str
) -> None:
    topic = topics.topic("alerts")
    await produce_json(topics, topic, [(f"k{i}", {"n": i}) for i in range(30)])
    group = f"lag-{unique}"
    taken = await _take_and_commit(topics, topic, group, 10)
    lags = await group_lag(topics, group, [topic])
    assert sum(lag for _, _, lag in lags) == 30 - taken
    assert {t for t, _, _ in lags} == {topic}

    process_lag_sink("test")(lags)
    exported = sum(
        REGISTRY.get_sample_value(
            "relay_consumer_lag", {"service": "test", "topic": topic, "partition": str(p)}
        )
        or 0
        for _, p, _ in lags
    )
    assert exported == 30 - taken


async def test_report_lag_follows_the_group_round_after_round(
    topics: CommonSettings, unique: str
) -> None:
    topic = topics.topic("alerts")
    await produce_json(topics, topic, [(f"k{i}", {"n": i}) for i in range(20)])
    group = f"lag-report-{unique}"
    rounds: asyncio.Queue[int] = asyncio.Queue()

    def sink(lags: Iterable[tuple[str, int, int]]) -> None:
        rounds.put_nowait(sum(lag for _, _, lag in lags))

    reporter = asyncio.create_task(report_lag(topics, group, [topic], sink, interval_s=0.1))
    try:
        assert await asyncio.wait_for(rounds.get(), 20) == 20
        await _take_and_commit(topics, topic, group, 20)
        while (lag := await asyncio.wait_for(rounds.get(), 20)) != 0:
            assert lag == 20  # rounds from before the commit
    finally:
        await cancel_and_wait([reporter])


async def _take_and_commit(topics: CommonSettings, topic: str, group: str, count: int) -> int:
    """Consume at least ``count`` records as ``group`` and commit; how many were taken."""
    async with make_consumer(topics, topic, group_id=group) as consumer:
        taken = 0
        while taken < count:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500, max_records=10), 20)
            taken += sum(len(records) for records in batch.values())
        await consumer.commit()
    return taken
