"""Escalation with shortened delays, stopped by an acknowledgement; the ack API's access rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.notifier_data import make_alert, standard_directory
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory


def escalations(receiver: WebhookReceiver, alert_id: str) -> list[tuple[str, int]]:
    return [
        (d.endpoint, d.body["data"]["escalation_level"])
        for d in receiver.deliveries
        if d.body["type"] == "alert.escalated" and d.body["data"]["alert"]["alert_id"] == alert_id
    ]


async def test_escalation_reaches_coordination_centre_and_ack_stops_it(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(topics, directory, notifier_escalation_delay_s=1.5)
    ignored, acked = make_alert(), make_alert()
    restricted = make_alert(dissemination={"restricted_to": ["KAZ"]})  # CC not on the list
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [ignored, acked, restricted])
        await receiver.wait_for(lambda: len(receiver.ids("KAZ-NCB")) == 3, 30)
        url = f"http://127.0.0.1:{app.port}/v1/alerts/{acked.alert_id}"
        async with httpx.AsyncClient() as client:
            nobody = await client.post(f"{url}/ack")
            stranger = await client.post(
                f"{url}/ack", headers={"Authorization": "Bearer key-TJK-NCB"}
            )
            answer = await client.post(
                f"{url}/ack", headers={"Authorization": "Bearer key-KAZ-NCB"},
                json={"comment": "officers on the way"},
            )  # fmt: skip
            inbox = await client.get(
                f"http://127.0.0.1:{app.port}/v1/inbox",
                headers={"Authorization": "Bearer key-KAZ-NCB"},
            )
        assert nobody.status_code == 401
        assert stranger.status_code == 403  # TJK was never a recipient
        assert answer.status_code == 200
        assert {a["alert_id"] for a in inbox.json()["alerts"]} == {
            ignored.alert_id, acked.alert_id, restricted.alert_id,
        }  # fmt: skip
        # The ignored alert climbs: backup after one delay, coordination centre after two.
        await receiver.wait_for(
            lambda: ("XPO-CC", 2) in escalations(receiver, ignored.alert_id), 30
        )
        # By now the restricted alert has reached its backup - and stops there.
        await receiver.wait_for(
            lambda: ("KAZ-BACKUP", 1) in escalations(receiver, restricted.alert_id), 10
        )
    assert escalations(receiver, ignored.alert_id) == [("KAZ-BACKUP", 1), ("XPO-CC", 2)]
    assert escalations(receiver, acked.alert_id) == []
    assert escalations(receiver, restricted.alert_id) == [("KAZ-BACKUP", 1)]
    restricted_endpoints = {
        d.endpoint for d in receiver.deliveries
        if d.body["data"]["alert"]["alert_id"] == restricted.alert_id
    }  # fmt: skip
    assert restricted_endpoints == {"KAZ-NCB", "UZB-NCB", "KAZ-BACKUP"}


async def test_directory_change_is_picked_up_without_restart(
    topics: CommonSettings, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    raw = standard_directory(receiver.url)
    path = write_directory(tmp_path / "cp.yaml", raw)
    settings = notifier_settings(topics, path)
    async with NotifierApp(settings) as app:
        app.directory.changed.clear()
        raw["countries"]["KAZ"] = {"primary": "TJK-NCB"}  # a deliberately odd change to observe
        write_directory(path, raw)
        await asyncio.wait_for(app.directory.changed.wait(), 10)
        await produce_alerts(topics, [make_alert()])
        await receiver.wait_for(lambda: len(receiver.ids("TJK-NCB")) == 1, 30)
    assert len(receiver.ids("KAZ-NCB")) == 0
