"""Every read of personal data and every console session is on the audit topic, who and from
where, before the data is shown (services/notifier/access_audit.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from aiokafka import ConsumerRecord

from schemas.codec import decode
from schemas.notification import AuditAction, AuditRecord
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.support.accounts import sign_in
from tests.support.console_data import console_directory, wait_in_stream
from tests.support.kafka_io import TopicReader
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

Records = list[ConsumerRecord[bytes, bytes]]
READS = (AuditAction.OPENED, AuditAction.LISTED)


def access_records(records: Records) -> list[AuditRecord]:
    found = [decode(AuditRecord, r.value) for r in records if r.value is not None]
    sessions = {AuditAction.SIGNED_IN, AuditAction.SIGN_IN_REFUSED, AuditAction.SIGNED_OUT}
    return [a for a in found if a.action in {*READS, *sessions}]


async def signed_in(client: httpx.AsyncClient, cp_id: str) -> str:
    answer = await sign_in(client, cp_id)
    assert answer.status_code == 200, answer.text
    csrf: str = answer.json()["csrf"]
    return csrf


async def test_reads_and_sessions_are_audited_with_who_and_from_where(
    topics: CommonSettings, tmp_path: Path
) -> None:
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", console_directory()))
    alert = make_alert()
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            refused = await sign_in(client, "NOBODY")
            assert refused.status_code == 401
            csrf = await signed_in(client, "KAZ-NCB")
            await asyncio.wait_for(wait_in_stream(client, alert.alert_id), 10)
            listing = (await client.get("/console/api/alerts")).json()
            assert [a["alert_id"] for a in listing["alerts"]] == [alert.alert_id]
            detail = await client.get(f"/console/api/alerts/{alert.alert_id}")
            assert detail.status_code == 200
            inbox = await client.get("/v1/inbox", headers={"Authorization": "Bearer key-KAZ-NCB"})
            assert [a["alert_id"] for a in inbox.json()["alerts"]] == [alert.alert_id]
            ended = await client.post(
                "/console/api/session/end", json={}, headers={"X-CSRF-Token": csrf}
            )
            assert ended.status_code == 200
        async with TopicReader(topics, topics.topic("notifications.audit")) as reader:
            await reader.until(
                lambda rs: AuditAction.SIGNED_OUT in {a.action for a in access_records(rs)}, 15
            )
            found = access_records(reader.records)

    by_action = {a.action: a for a in found}
    assert by_action[AuditAction.SIGN_IN_REFUSED].actor == "anonymous"
    officer = "KAZ-NCB/kaz-ncb.duty_officer"  # the officer, not only the contact point
    assert by_action[AuditAction.SIGNED_IN].actor == officer
    assert by_action[AuditAction.SIGNED_IN].details["role"] == "duty_officer"
    assert by_action[AuditAction.SIGNED_OUT].actor == officer
    opened = by_action[AuditAction.OPENED]
    assert (opened.actor, opened.alert_id) == (officer, alert.alert_id)
    assert opened.details == {"via": "console", "client": "127.0.0.1"}
    listed = [a for a in found if a.action is AuditAction.LISTED]
    assert {a.details["via"] for a in listed} == {"console", "api"}
    assert {a.actor for a in listed} == {officer, "KAZ-NCB"}  # console; API key
    assert all(a.alert_id is None for a in listed)
    assert [alert.alert_id] in [a.details["alerts"] for a in listed if a.details["via"] == "api"]
    # an audit record says who read which alert, never what the alert says of the traveller
    traveller = alert.traveller.surname if alert.traveller else None
    assert traveller is None or all(traveller not in a.model_dump_json() for a in found)
