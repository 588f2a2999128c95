"""What the notifier keeps on notifications.deliveries: compact job records (the alert, with
its personal data, in one job's records only) and, after the retention window, tombstones for
closed alerts - which a restarted notifier then no longer knows."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson
from aiokafka import ConsumerRecord

from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import (
    notifier_settings,
    produce_alerts,
    read_until,
)

Records = list[ConsumerRecord[bytes, bytes]]


def by_job(records: Records) -> dict[str, list[bytes | None]]:
    found: dict[str, list[bytes | None]] = defaultdict(list)
    for r in records:
        found[r.key.decode()].append(r.value)
    return found


def tombstoned(records: Records, jobs: set[str]) -> bool:
    latest = {k: values[-1] for k, values in by_job(records).items()}
    return all(j in latest and latest[j] is None for j in jobs)


async def test_compact_records_and_closed_alerts_tombstoned_after_retention(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(
        topics, directory, notifier_retention_s=1.0, notifier_retention_sweep_s=0.2
    )
    # Routine alerts: nothing to escalate, so delivered means closed.
    alerts = [make_alert(urgency="normal", list="yellow_notice") for _ in range(4)]
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, alerts)
        await receiver.wait_for(lambda: len(receiver.deliveries) == 8, 30)  # KAZ + UZB each
        jobs = {d.webhook_id for d in receiver.deliveries}
        records = await read_until(
            topics, "notifications.deliveries", lambda rs: tombstoned(rs, jobs)
        )
        assert all(a.alert_id not in app.engine.inbox.alerts for a in alerts)
    carriers: dict[str, set[str]] = defaultdict(set)
    for job, values in by_job(records).items():
        for value in values[:-1]:  # all but the tombstone
            assert value is not None
            stored = orjson.loads(value)
            if "alert" in stored:
                carriers[stored["alert_id"]].add(job)
    # Each alert travelled in the records of exactly one of its two jobs.
    assert {a.alert_id for a in alerts} == set(carriers)
    assert all(len(held) == 1 for held in carriers.values())
    async with NotifierApp(settings) as restarted:  # rebuilt from the topic: forgotten
        assert all(a.alert_id not in restarted.engine.inbox.alerts for a in alerts)
