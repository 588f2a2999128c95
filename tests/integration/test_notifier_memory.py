"""Closed alerts leave the notifier's memory; an answer or a cancellation about one still works
(the jobs are read back from notifications.deliveries on the real broker)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import ConsumerRecord

from schemas.codec import decode, encode
from schemas.notification import Acknowledgement, Notification, NotificationState
from schemas.watchlist import WatchlistEntry
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import (
    notifier_settings,
    produce,
    produce_alerts,
    read_until,
)

Records = list[ConsumerRecord[bytes, bytes]]


def states(records: Records) -> dict[str, Notification]:
    return {r.key.decode(): decode(Notification, r.value) for r in records if r.value is not None}


def all_in(records: Records, alert_id: str, state: NotificationState, count: int) -> bool:
    jobs = [j for j in states(records).values() if j.alert_id == alert_id]
    return len(jobs) == count and all(j.state is state for j in jobs)


def delivered(alert_id: str) -> Callable[[Records], bool]:
    return lambda rs: all_in(rs, alert_id, NotificationState.DELIVERED, 2)


async def test_evicted_alert_can_be_answered_and_cancelled(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(topics, directory, notifier_memory_sweep_s=3600)
    answered = make_alert(urgency="normal", list="yellow_notice")  # KAZ + UZB, no escalation
    cancelled = make_alert(urgency="normal", list="yellow_notice", entry_id="YN-2099-MEM1")
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [answered, cancelled])
        for alert in (answered, cancelled):
            await read_until(topics, "notifications.deliveries", delivered(alert.alert_id))
        # An hour later both are closed and past the memory window: evicted.
        assert app.engine.sweep_memory(datetime.now(UTC) + timedelta(hours=1)) == 2
        assert app.engine.inbox.alerts == {}
        url = f"http://127.0.0.1:{app.port}/v1/alerts"
        async with httpx.AsyncClient() as client:
            stranger = await client.post(
                f"{url}/{answered.alert_id}/ack", headers={"Authorization": "Bearer key-TJK-NCB"}
            )
            unknown = await client.post(
                f"{url}/a-{'0' * 32}/ack", headers={"Authorization": "Bearer key-KAZ-NCB"}
            )
            answer = await client.post(
                f"{url}/{answered.alert_id}/ack", headers={"Authorization": "Bearer key-KAZ-NCB"}
            )
        assert stranger.status_code == 403  # read back, and TJK was never a recipient
        assert unknown.status_code == 403
        assert answer.status_code == 200
        records = await read_until(
            topics, "notifications.deliveries",
            lambda rs: any(j.alert_id == answered.alert_id and j.recipient == "KAZ-NCB"
                           and j.state is NotificationState.ACKNOWLEDGED
                           for j in states(rs).values()),
        )  # fmt: skip
        assert states(records)  # the acknowledgement is on the durable copy
        acks = await read_until(topics, "notifications.acks", lambda rs: len(rs) >= 1)
        assert decode(Acknowledgement, acks[0].value).alert_id == answered.alert_id
        # The entry of the other (evicted) alert is cancelled: everyone paged hears of it.
        entry = WatchlistEntry.model_validate(
            {"entry_id": cancelled.entry_id, "list": "yellow_notice", "status": "cancelled",
             "issuer": "UZB", "action": "locate",
             "person": {"names": [{"surname": "TESTOV"}]}},
            strict=False,
        )  # fmt: skip
        await produce(topics, "watchlist.entries", cancelled.entry_id.encode(), encode(entry))
        await receiver.wait_for(
            lambda: (
                {d.endpoint for d in receiver.deliveries if d.body["type"] == "alert.cancelled"}
                == {"KAZ-NCB", "UZB-NCB"}
            ),
            30,
        )
        assert app.engine.inbox.alerts[cancelled.alert_id].cancelled
